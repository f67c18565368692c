import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Text } from "@twilio-paste/core/text";

import type { CallSnapshot } from "../softphone";
import { useSoftphone } from "../use-softphone";

/** The browser leg of the current call: answer or decline it, then mute or hang up. */
export function CallControls({ call }: { call: CallSnapshot }) {
  const softphone = useSoftphone();

  if (call.status === "pending") {
    return (
      <Box role="group" aria-label="Incoming call">
        <Text as="p" fontWeight="fontWeightSemibold" marginBottom="space30">
          Incoming call from {call.from}
        </Text>
        <Box display="flex" columnGap="space30">
          <Button variant="primary" onClick={() => softphone.accept()}>
            Answer
          </Button>
          <Button variant="destructive_secondary" onClick={() => softphone.reject()}>
            Decline
          </Button>
        </Box>
      </Box>
    );
  }

  const connecting = call.status === "connecting" || call.status === "reconnecting";
  return (
    <Box role="group" aria-label="Current call">
      <Text as="p" fontWeight="fontWeightSemibold" marginBottom="space30">
        {connecting ? `Connecting to ${call.from}…` : `On a call with ${call.from}`}
        {call.muted && " (muted)"}
      </Text>
      <Box display="flex" columnGap="space30">
        <Button variant="secondary" onClick={() => softphone.setMuted(!call.muted)}>
          {call.muted ? "Unmute" : "Mute"}
        </Button>
        <Button variant="destructive" onClick={() => softphone.hangUp()}>
          Hang up
        </Button>
      </Box>
    </Box>
  );
}
