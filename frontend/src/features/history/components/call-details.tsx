import { Box } from "@twilio-paste/core/box";
import { Heading } from "@twilio-paste/core/heading";
import { Modal, ModalBody, ModalHeader, ModalHeading } from "@twilio-paste/core/modal";
import { SkeletonLoader } from "@twilio-paste/core/skeleton-loader";
import { Stack } from "@twilio-paste/core/stack";
import { Table, TBody, Td, Th, THead, Tr } from "@twilio-paste/core/table";
import { Text } from "@twilio-paste/core/text";
import { useId, type ReactNode } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import { formatDateTime, formatDuration, formatEndedBy, formatTime, type NameOf } from "../../../lib/format";
import type { Call, Leg } from "../../../types/api";
import { useCall, useCallTimeline } from "../api/get-call";
import { CALL_STATUS_LABEL, handledBy, TRANSFER_STATUS_LABEL, transferTarget } from "../history-words";

const LEG_STATUS: Record<Leg["status"], string> = {
  dialing: "Dialing",
  queued: "Queued",
  ringing: "Ringing",
  in_progress: "Connected",
  completed: "Left",
  busy: "Busy or declined",
  no_answer: "No answer",
  failed: "Failed",
  canceled: "Canceled",
};

function legWho(leg: Leg, call: Call, nameOf: NameOf): string {
  if (leg.role === "customer") return `Customer ${call.from_number}`;
  if (leg.agent_id !== null) return nameOf(leg.agent_id);
  return leg.number ?? "Outside number";
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <Box display="flex" columnGap="space30">
      <Box as="dt" minWidth="size10">
        <Text as="span" color="colorTextWeak">
          {term}
        </Text>
      </Box>
      <Text as="dd" margin="space0">
        {children}
      </Text>
    </Box>
  );
}

function Summary({ call, nameOf }: { call: Call; nameOf: NameOf }) {
  return (
    <Box as="dl" margin="space0" display="grid" rowGap="space20">
      <Fact term="Called">{formatDateTime(call.created_at)}</Fact>
      <Fact term="Status">{CALL_STATUS_LABEL[call.status]}</Fact>
      <Fact term="Handled by">{handledBy(call, nameOf)}</Fact>
      <Fact term="Waited">{call.wait_seconds === null ? "—" : formatDuration(call.wait_seconds)}</Fact>
      <Fact term="Talked">{call.talk_seconds === null ? "—" : formatDuration(call.talk_seconds)}</Fact>
      <Fact term="Hung up by">{formatEndedBy(call.ended_by, nameOf) ?? "—"}</Fact>
    </Box>
  );
}

function Legs({ call, nameOf }: { call: Call; nameOf: NameOf }) {
  return (
    <Table aria-label="Participants" variant="borderless">
      <THead>
        <Tr>
          <Th>Who</Th>
          <Th>Status</Th>
          <Th>Joined</Th>
          <Th>Left</Th>
        </Tr>
      </THead>
      <TBody>
        {call.legs.map((leg) => (
          <Tr key={leg.id}>
            <Td>{legWho(leg, call, nameOf)}</Td>
            <Td>{LEG_STATUS[leg.status]}</Td>
            <Td>{leg.joined_at === null ? "—" : formatTime(leg.joined_at)}</Td>
            <Td>{leg.ended_at === null ? "—" : formatTime(leg.ended_at)}</Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

function Transfers({ call, nameOf }: { call: Call; nameOf: NameOf }) {
  if (call.transfers.length === 0) return <Text as="p">No transfers.</Text>;
  return (
    <Box as="ul" margin="space0" paddingLeft="space60" aria-label="Transfers">
      {call.transfers.map((transfer) => (
        <Text as="li" key={transfer.id}>
          {transfer.from_agent_id === null ? "?" : nameOf(transfer.from_agent_id)} to{" "}
          {transferTarget(transfer, nameOf)} (
          {transfer.mode === "cold" ? "cold" : transfer.hold_customer ? "warm" : "three-way"}):{" "}
          {TRANSFER_STATUS_LABEL[transfer.status]}
          {transfer.reason !== null && ` — ${transfer.reason}`}
        </Text>
      ))}
    </Box>
  );
}

function Timeline({ callId }: { callId: number }) {
  const timeline = useCallTimeline(callId);
  if (timeline.isPending) return <SkeletonLoader height="sizeIcon70" />;
  if (timeline.error !== null)
    return <ErrorAlert title="Couldn't load the timeline." error={timeline.error} />;
  if (timeline.data.length === 0) return <Text as="p">Nothing received from Twilio yet.</Text>;
  return (
    <Table aria-label="Timeline" variant="borderless">
      <THead>
        <Tr>
          <Th>Received</Th>
          <Th>From</Th>
          <Th>Event</Th>
          <Th>Sequence</Th>
        </Tr>
      </THead>
      <TBody>
        {timeline.data.map((event) => (
          <Tr key={event.id}>
            <Td>{formatTime(event.received_at)}</Td>
            <Td>{event.source === "conference" ? "Conference" : "Call leg"}</Td>
            <Td>{event.name}</Td>
            <Td>{event.sequence_number ?? "—"}</Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

/** One call in full: summary, who was on it, its transfers and Twilio's callbacks in order. */
export function CallDetails({
  callId,
  nameOf,
  onClose,
}: {
  callId: number;
  nameOf: NameOf;
  onClose: () => void;
}) {
  const headingId = useId();
  const call = useCall(callId);

  return (
    <Modal isOpen onDismiss={onClose} size="wide" ariaLabelledby={headingId}>
      <ModalHeader>
        <ModalHeading as="h2" id={headingId}>
          {call.data === undefined ? "Call details" : `Call from ${call.data.from_number}`}
        </ModalHeading>
      </ModalHeader>
      <ModalBody>
        {call.isPending && <SkeletonLoader height="sizeIcon70" />}
        {call.error !== null && <ErrorAlert title="Couldn't load the call." error={call.error} />}
        {call.data !== undefined && (
          <Stack orientation="vertical" spacing="space70">
            <Summary call={call.data} nameOf={nameOf} />
            <Box>
              <Heading as="h3" variant="heading50">
                Participants
              </Heading>
              <Legs call={call.data} nameOf={nameOf} />
            </Box>
            <Box>
              <Heading as="h3" variant="heading50">
                Transfers
              </Heading>
              <Transfers call={call.data} nameOf={nameOf} />
            </Box>
            <Box>
              <Heading as="h3" variant="heading50">
                Timeline
              </Heading>
              <Timeline callId={callId} />
            </Box>
          </Stack>
        )}
      </ModalBody>
    </Modal>
  );
}
