import { Badge, type BadgeProps } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Text } from "@twilio-paste/core/text";

import type { NameOf } from "../../../lib/format";
import type { Call } from "../../../types/api";
import { PARTICIPANT_STATE, participantsOf, type ParticipantState } from "../participants";

const VARIANT: Record<ParticipantState, BadgeProps["variant"]> = {
  connected: "success",
  on_hold: "warning",
  ringing: "info",
  consulting: "new",
  connecting: "neutral",
};

const ROLE: Record<string, string> = { customer: "Customer", agent: "Agent", external: "Outside number" };

export function ParticipantList({ call, agentId, nameOf }: { call: Call; agentId: string; nameOf: NameOf }) {
  const participants = participantsOf(call, agentId, nameOf);
  return (
    <Box as="ul" margin="space0" padding="space0" listStyleType="none" aria-label="Participants">
      {participants.map((participant) => (
        <Box
          as="li"
          key={participant.legId}
          display="flex"
          alignItems="center"
          justifyContent="space-between"
          columnGap="space30"
          paddingY="space30"
          borderBottomStyle="solid"
          borderBottomWidth="borderWidth10"
          borderBottomColor="colorBorderWeaker"
        >
          <Box>
            <Text as="span" color="colorTextWeak">
              {ROLE[participant.role]}:{" "}
            </Text>
            <Text as="span" fontWeight="fontWeightSemibold">
              {participant.who}
              {participant.you && " (you)"}
            </Text>
            {participant.muted && (
              <Text as="span" color="colorTextWeak">
                {" "}
                (muted)
              </Text>
            )}
          </Box>
          <Badge as="span" variant={VARIANT[participant.state]}>
            {PARTICIPANT_STATE[participant.state]}
          </Badge>
        </Box>
      ))}
    </Box>
  );
}
