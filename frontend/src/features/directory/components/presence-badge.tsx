import { Badge, type BadgeProps } from "@twilio-paste/core/badge";

import type { Presence } from "../../../types/api";

const PRESENCE: Record<Presence, { variant: BadgeProps["variant"]; label: string }> = {
  available: { variant: "success", label: "Available" },
  away: { variant: "warning", label: "Away" },
  busy: { variant: "error", label: "On a call" },
  offline: { variant: "neutral", label: "Offline" },
};

export function PresenceBadge({ presence }: { presence: Presence }) {
  const { variant, label } = PRESENCE[presence];
  return (
    <Badge as="span" variant={variant}>
      {label}
    </Badge>
  );
}
