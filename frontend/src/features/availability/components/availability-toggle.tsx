import { Badge } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { RadioButton, RadioButtonGroup } from "@twilio-paste/core/radio-button-group";
import { ScreenReaderOnly } from "@twilio-paste/core/screen-reader-only";
import { Text } from "@twilio-paste/core/text";

import { errorMessage } from "../../../components/ui/error-alert";
import type { Agent, Availability } from "../../../types/api";
import { useMe } from "../api/get-me";
import { useSetAvailability } from "../api/set-availability";

interface AvailabilityToggleProps {
  /** Whether the softphone is registered; without it no call can reach the agent. */
  online: boolean;
  onChange?: (agent: Agent) => void;
}

function isAvailability(value: string): value is Availability {
  return value === "available" || value === "away";
}

function StatusBadge({ online, availability }: { online: boolean; availability: Availability | undefined }) {
  if (!online)
    return (
      <Badge as="span" variant="neutral">
        Offline
      </Badge>
    );
  if (availability === "available")
    return (
      <Badge as="span" variant="success">
        Available
      </Badge>
    );
  if (availability === "away")
    return (
      <Badge as="span" variant="warning">
        Away
      </Badge>
    );
  return null;
}

/** One line for the console's header: where the agent stands, and the switch to change it. */
export function AvailabilityToggle({ online, onChange }: AvailabilityToggleProps) {
  const me = useMe();
  const change = useSetAvailability({ onSuccess: onChange });
  const availability = me.data?.availability;

  return (
    <Box display="flex" alignItems="center" columnGap="space30" flexWrap="wrap">
      <StatusBadge online={online} availability={availability} />
      {availability !== undefined && (
        <RadioButtonGroup
          name="availability"
          legend={<ScreenReaderOnly>Take new calls?</ScreenReaderOnly>}
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
      {!online && (
        <Text as="span" color="colorTextWeak" fontSize="fontSize20">
          Start the softphone to take calls.
        </Text>
      )}
      {me.error !== null && (
        <Text as="span" role="alert" color="colorTextError" fontSize="fontSize20">
          Couldn't load your status: {errorMessage(me.error)}
        </Text>
      )}
      {change.error !== null && (
        <Text as="span" role="alert" color="colorTextError" fontSize="fontSize20">
          Couldn't change your status: {errorMessage(change.error)}
        </Text>
      )}
    </Box>
  );
}
