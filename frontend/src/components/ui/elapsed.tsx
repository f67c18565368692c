import { Text, type TextProps } from "@twilio-paste/core/text";

import { formatDuration, secondsSince } from "../../lib/format";
import { useNow } from "../../lib/use-now";

interface ElapsedProps {
  /** ISO date-time the clock counts from. */
  since: string;
  fontWeight?: TextProps["fontWeight"];
  "aria-label"?: string;
}

/** A running `m:ss` clock; only this small piece re-renders every second. */
export function Elapsed({ since, fontWeight, "aria-label": label }: ElapsedProps) {
  const now = useNow();
  return (
    <Text as="span" fontWeight={fontWeight} aria-label={label} fontVariantNumeric="tabular-nums">
      {formatDuration(secondsSince(since, now))}
    </Text>
  );
}
