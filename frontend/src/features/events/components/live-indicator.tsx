import { Badge, type BadgeProps } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";

import type { StreamStatus } from "../event-stream";

const LABEL: Record<StreamStatus, { variant: BadgeProps["variant"]; text: string; title: string }> = {
  off: { variant: "neutral", text: "Offline", title: "Not receiving live updates." },
  connecting: { variant: "neutral", text: "Connecting…", title: "Connecting to live updates…" },
  live: { variant: "success", text: "Live", title: "Calls, queue and directory update as they change." },
  reconnecting: {
    variant: "warning",
    text: "Reconnecting…",
    title: "Lost the live updates; reconnecting. What you see may be out of date.",
  },
};

/** Whether the console is receiving the server's live updates; announced when it changes. */
export function LiveIndicator({ status }: { status: StreamStatus }) {
  const { variant, text, title } = LABEL[status];
  return (
    <Box role="status" aria-label="Live updates" title={title}>
      <Badge as="span" variant={variant}>
        {text}
      </Badge>
    </Box>
  );
}
