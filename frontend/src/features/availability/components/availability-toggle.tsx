import { Badge } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { RadioButton, RadioButtonGroup } from "@twilio-paste/core/radio-button-group";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";

import { ErrorAlert } from "../../../components/ui/error-alert";
import type { Agent, Availability } from "../../../types/api";
import { useMe } from "../api/get-me";
import { useSetAvailability } from "../api/set-availability";

interface AvailabilityToggleProps {
  /** Whether the softphone is registered; without it no call can reach the agent. */
  online: boolean;
  onChange?: (agent: Agent) => void;
}

const OFFLINE = "You're offline until the softphone is ready.";
const AVAILABLE = "New calls can be offered to you.";
const AWAY = "No new calls are offered to you.";

function isAvailability(value: string): value is Availability {
  return value === "available" || value === "away";
}

export function AvailabilityToggle({ online, onChange }: AvailabilityToggleProps) {
  const me = useMe();
  const change = useSetAvailability({ onSuccess: onChange });
  const availability = me.data?.availability;

  return (
    <Card>
      <Stack orientation="vertical" spacing="space50">
        <Box display="flex" alignItems="center" columnGap="space40">
          <Heading as="h2" variant="heading40" marginBottom="space0">
            Your status
          </Heading>
          {!online && (
            <Badge as="span" variant="neutral">
              Offline
            </Badge>
          )}
          {online && availability === "available" && (
            <Badge as="span" variant="success">
              Available
            </Badge>
          )}
          {online && availability === "away" && (
            <Badge as="span" variant="warning">
              Away
            </Badge>
          )}
        </Box>
        <Text as="p">
          {!online ? OFFLINE : availability === "away" ? AWAY : availability === "available" ? AVAILABLE : ""}
        </Text>
        {me.error !== null && <ErrorAlert title="Couldn't load your status." error={me.error} />}
        {availability !== undefined && (
          <RadioButtonGroup
            name="availability"
            legend="Take new calls?"
            helpText="Available agents are offered new calls."
            attached
            value={availability}
            disabled={change.isPending}
            onChange={(value) => {
              if (isAvailability(value)) change.mutate(value);
            }}
          >
            <RadioButton value="available" disabled={!online}>
              Available
            </RadioButton>
            <RadioButton value="away">Away</RadioButton>
          </RadioButtonGroup>
        )}
        {change.error !== null && <ErrorAlert title="Couldn't change your status." error={change.error} />}
      </Stack>
    </Card>
  );
}
