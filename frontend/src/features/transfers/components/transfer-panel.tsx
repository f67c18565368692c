import { Alert, type AlertProps } from "@twilio-paste/core/alert";
import { Box } from "@twilio-paste/core/box";
import { Heading } from "@twilio-paste/core/heading";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";
import { useState } from "react";

import { namesFrom } from "../../../lib/format";
import { activeTransfer } from "../../../lib/live-calls";
import type { Agent, Call, Transfer } from "../../../types/api";
import { outcomeWords, type OutcomeTone } from "../transfer-words";
import { TransferPicker } from "./transfer-picker";
import { TransferProgress } from "./transfer-progress";

const ALERT: Record<OutcomeTone, AlertProps["variant"]> = {
  success: "neutral",
  neutral: "neutral",
  warning: "warning",
  error: "error",
};

interface TransferPanelProps {
  /** The call the agent is connected to. */
  call: Call;
  agentId: string;
  agents: readonly Agent[];
}

/**
 * Transfers of the current call: choose whom and how, follow the target's phone from dialing to
 * the consult, then complete or cancel; afterwards, how it ended.
 */
export function TransferPanel({ call, agentId, agents }: TransferPanelProps) {
  const nameOf = namesFrom(agents);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const transfer = activeTransfer(call);
  const lastEnded: Transfer | undefined = call.transfers.findLast(
    (candidate) => candidate.from_agent_id === agentId && candidate.ended_at !== null,
  );

  let body;
  if (transfer?.from_agent_id === agentId) {
    body = <TransferProgress key={transfer.id} transfer={transfer} nameOf={nameOf} />;
  } else if (transfer !== undefined) {
    const from = transfer.from_agent_id === null ? "A colleague" : nameOf(transfer.from_agent_id);
    body = (
      <Text as="p">
        {transfer.to_agent_id === agentId
          ? `${from} is transferring this call to you. Once they complete it, the call is yours.`
          : `${from} is transferring this call.`}
      </Text>
    );
  } else {
    const outcome =
      lastEnded !== undefined && lastEnded.id !== dismissed ? outcomeWords(lastEnded, nameOf) : null;
    body = (
      <Stack orientation="vertical" spacing="space50">
        {outcome !== null && lastEnded !== undefined && (
          <Alert
            variant={ALERT[outcome.tone]}
            onDismiss={() => {
              setDismissed(lastEnded.id);
            }}
          >
            <Text as="p" fontWeight="fontWeightSemibold">
              {outcome.title}
            </Text>
            {lastEnded.status !== "canceled" && lastEnded.status !== "completed" && (
              <Text as="p">The customer is back with you{lastEnded.hold_customer ? ", off hold" : ""}.</Text>
            )}
          </Alert>
        )}
        <TransferPicker callId={call.id} agentId={agentId} agents={agents} />
      </Stack>
    );
  }

  return (
    <Box
      as="section"
      aria-labelledby="transfer-heading"
      paddingTop="space50"
      borderTopStyle="solid"
      borderTopWidth="borderWidth10"
      borderTopColor="colorBorderWeaker"
    >
      <Stack orientation="vertical" spacing="space40">
        <Heading as="h3" id="transfer-heading" variant="heading50" marginBottom="space0">
          Transfer
        </Heading>
        {body}
      </Stack>
    </Box>
  );
}
