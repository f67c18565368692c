import { Badge } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";
import type { ReactNode } from "react";

import { Elapsed } from "../../../components/ui/elapsed";
import { ErrorAlert } from "../../../components/ui/error-alert";
import { ShortcutHint } from "../../../components/ui/shortcut-hint";
import { ApiError } from "../../../lib/api-client";
import { namesFrom, type NameOf } from "../../../lib/format";
import { useHotkeys } from "../../../lib/hotkeys";
import type { Agent, Call } from "../../../types/api";
import { useHoldCustomer } from "../api/hold-customer";
import { useLeaveCall } from "../api/leave-call";
import { describeLastCall, hangUpConsequence } from "../call-words";
import { ParticipantList } from "./participant-list";

/** The agent's own audio leg, as the softphone has it. */
export interface SoftphoneLeg {
  /** The softphone has answered and its leg is up (or still connecting). */
  connected: boolean;
  muted: boolean;
  setMuted: (muted: boolean) => void;
  /** Drops the softphone's leg, whatever the server knows. */
  hangUp: () => void;
}

interface ActiveCallPanelProps {
  /** The call the agent is connected to, as the server reports it. */
  call: Call | null;
  /** The agent's last call, to say how it ended. */
  lastCall?: Call | null;
  agentId: string;
  agents: readonly Agent[];
  softphone: SoftphoneLeg;
  /** Shown under the call's controls: the transfer panel. */
  children?: ReactNode;
}

function Panel({ children }: { children: ReactNode }) {
  return (
    <Card>
      <Box as="section" aria-labelledby="active-call-heading">
        {children}
      </Box>
    </Card>
  );
}

function Rows({ children }: { children: ReactNode }) {
  return (
    <Stack orientation="vertical" spacing="space50">
      {children}
    </Stack>
  );
}

function PanelHeading({ children }: { children?: ReactNode }) {
  return (
    <Box display="flex" alignItems="center" columnGap="space40" flexWrap="wrap">
      <Heading as="h2" id="active-call-heading" variant="heading40" marginBottom="space0">
        Active call
      </Heading>
      {children}
    </Box>
  );
}

/** Server errors that mean the agent is no longer on the call: the softphone's leg can go too. */
function meansCallIsOver(error: ApiError): boolean {
  return error.error === "call_ended" || error.error === "not_on_call" || error.status === 404;
}

function LiveCall({
  call,
  agentId,
  nameOf,
  softphone,
  children,
}: {
  call: Call;
  agentId: string;
  nameOf: NameOf;
  softphone: SoftphoneLeg;
  children?: ReactNode;
}) {
  const hold = useHoldCustomer(call.id);
  const leave = useLeaveCall(call.id);
  const customer = call.legs.find((leg) => leg.role === "customer");
  const onHold = customer?.on_hold ?? false;
  const consequence = hangUpConsequence(call, agentId, nameOf);

  const toggleHold = () => {
    if (!hold.isPending) hold.mutate(!onHold);
  };
  const hangUp = () => {
    if (leave.isPending) return;
    leave.mutate(undefined, {
      onSuccess: () => {
        softphone.hangUp();
      },
      onError: (error) => {
        if (error instanceof ApiError && meansCallIsOver(error)) softphone.hangUp();
      },
    });
  };
  useHotkeys({ h: toggleHold, "shift+e": hangUp });

  const error = leave.error ?? hold.error;
  return (
    <Rows>
      <PanelHeading>
        {onHold ? (
          <Badge as="span" variant="warning">
            Customer on hold
          </Badge>
        ) : (
          <Badge as="span" variant="success">
            Connected
          </Badge>
        )}
      </PanelHeading>
      <Box display="flex" alignItems="flex-end" justifyContent="space-between" columnGap="space40">
        <Box>
          <Text as="p" id="active-call-caller" color="colorTextWeak" fontSize="fontSize20">
            Caller
          </Text>
          <Text
            as="p"
            aria-labelledby="active-call-caller"
            fontSize="fontSize60"
            lineHeight="lineHeight60"
            fontWeight="fontWeightSemibold"
          >
            {call.from_number}
          </Text>
        </Box>
        {call.answered_at !== null && (
          <Text as="p" fontSize="fontSize40" color="colorTextWeak">
            <Elapsed since={call.answered_at} aria-label="Call duration" />
          </Text>
        )}
      </Box>
      <ParticipantList call={call} agentId={agentId} nameOf={nameOf} />
      <Box display="flex" columnGap="space30" rowGap="space30" flexWrap="wrap">
        <Button
          variant="secondary"
          disabled={!softphone.connected}
          onClick={() => {
            softphone.setMuted(!softphone.muted);
          }}
        >
          {softphone.muted ? "Unmute" : "Mute"}
        </Button>
        <Button variant="secondary" loading={hold.isPending} aria-keyshortcuts="H" onClick={toggleHold}>
          {onHold ? "Resume customer" : "Hold customer"}
        </Button>
        <Button variant="destructive" loading={leave.isPending} aria-keyshortcuts="Shift+E" onClick={hangUp}>
          Hang up
        </Button>
      </Box>
      {consequence !== null && (
        <Text as="p" color="colorTextWeak">
          {consequence}
        </Text>
      )}
      <ShortcutHint
        shortcuts={[
          { keys: ["H"], does: onHold ? "resume" : "hold" },
          { keys: ["Shift", "E"], does: "hang up" },
        ]}
      />
      {error !== null && (
        <ErrorAlert
          title={
            error === leave.error
              ? "Couldn't hang up."
              : onHold
                ? "Couldn't resume the customer."
                : "Couldn't hold the customer."
          }
          error={error}
          onDismiss={() => {
            leave.reset();
            hold.reset();
          }}
        />
      )}
      {children}
    </Rows>
  );
}

/**
 * The call the agent is on: the caller, a running clock, who is on the line (from the server's
 * legs, live), and mute, hold and hang up, with keyboard shortcuts.
 */
export function ActiveCallPanel({
  call,
  lastCall = null,
  agentId,
  agents,
  softphone,
  children,
}: ActiveCallPanelProps) {
  const nameOf = namesFrom(agents);

  if (call !== null) {
    return (
      <Panel>
        {/* Keyed by call: a new call starts with no stale error or pending action. */}
        <LiveCall key={call.id} call={call} agentId={agentId} nameOf={nameOf} softphone={softphone}>
          {children}
        </LiveCall>
      </Panel>
    );
  }

  if (softphone.connected) {
    // Answered; the server hasn't reported the agent in the call yet.
    return (
      <Panel>
        <Rows>
          <PanelHeading>
            <Badge as="span" variant="info">
              Connecting
            </Badge>
          </PanelHeading>
          <Text as="p">Connecting you to the caller…</Text>
          <Box display="flex" columnGap="space30">
            <Button
              variant="secondary"
              onClick={() => {
                softphone.setMuted(!softphone.muted);
              }}
            >
              {softphone.muted ? "Unmute" : "Mute"}
            </Button>
            <Button variant="destructive" onClick={softphone.hangUp}>
              Hang up
            </Button>
          </Box>
        </Rows>
      </Panel>
    );
  }

  return (
    <Panel>
      <Rows>
        <PanelHeading />
        <Text as="p" color="colorTextWeak">
          No active call. Calls offered to you ring here and in the softphone.
        </Text>
        {lastCall !== null && (
          <Text as="p">
            Last call, {lastCall.from_number}: {describeLastCall(lastCall, agentId, nameOf)}
          </Text>
        )}
      </Rows>
    </Panel>
  );
}
