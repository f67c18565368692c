import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Card } from "@twilio-paste/core/card";
import { Checkbox } from "@twilio-paste/core/checkbox";
import { Heading } from "@twilio-paste/core/heading";
import { Label } from "@twilio-paste/core/label";
import { Option, Select } from "@twilio-paste/core/select";
import { ScreenReaderOnly } from "@twilio-paste/core/screen-reader-only";
import { SkeletonLoader } from "@twilio-paste/core/skeleton-loader";
import { Stack } from "@twilio-paste/core/stack";
import { Table, TBody, Td, Th, THead, Tr } from "@twilio-paste/core/table";
import { Text } from "@twilio-paste/core/text";
import { useState } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import { formatDateTime, formatDuration, formatEndedBy, namesFrom, type NameOf } from "../../../lib/format";
import type { Agent, Call, CallStatus } from "../../../types/api";
import { useCallHistory } from "../api/get-call-history";
import { CALL_STATUS_LABEL, handledBy, transferSummary } from "../history-words";
import { CallDetails } from "./call-details";

const STATUSES = Object.keys(CALL_STATUS_LABEL) as CallStatus[];

function isStatus(value: string): value is CallStatus {
  return (STATUSES as string[]).includes(value);
}

function duration(seconds: number | null): string {
  return seconds === null ? "—" : formatDuration(seconds);
}

function CallRow({ call, nameOf, onOpen }: { call: Call; nameOf: NameOf; onOpen: () => void }) {
  return (
    <Tr>
      <Td>{formatDateTime(call.created_at)}</Td>
      <Td>{call.from_number}</Td>
      <Td>{CALL_STATUS_LABEL[call.status]}</Td>
      <Td>{handledBy(call, nameOf)}</Td>
      <Td>
        {call.transfers.length === 0 ? (
          "—"
        ) : (
          <Box as="ul" margin="space0" padding="space0" listStyleType="none">
            {call.transfers.map((transfer) => (
              <li key={transfer.id}>{transferSummary(transfer, nameOf)}</li>
            ))}
          </Box>
        )}
      </Td>
      <Td textAlign="right">{duration(call.wait_seconds)}</Td>
      <Td textAlign="right">{duration(call.talk_seconds)}</Td>
      <Td>{formatEndedBy(call.ended_by, nameOf) ?? "—"}</Td>
      <Td>
        <Button variant="link" onClick={onOpen} aria-label={`Details of the call from ${call.from_number}`}>
          Details
        </Button>
      </Td>
    </Tr>
  );
}

/** Past and current calls, newest first, a page at a time; a call's details on demand. */
export function CallHistory({ agentId, agents }: { agentId: string; agents: readonly Agent[] }) {
  const [status, setStatus] = useState<CallStatus | null>(null);
  const [onlyMine, setOnlyMine] = useState(false);
  const [opened, setOpened] = useState<number | null>(null);
  const history = useCallHistory({ status, agentId: onlyMine ? agentId : null });
  const nameOf = namesFrom(agents);
  const calls = history.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <Card>
      <Stack orientation="vertical" spacing="space50">
        <Heading as="h2" variant="heading40" marginBottom="space0">
          Call history
        </Heading>
        <Box display="flex" alignItems="flex-end" columnGap="space60" rowGap="space40" flexWrap="wrap">
          <Box minWidth="size20">
            <Label htmlFor="history-status">Status</Label>
            <Select
              id="history-status"
              value={status ?? "all"}
              onChange={(event) => {
                setStatus(isStatus(event.target.value) ? event.target.value : null);
              }}
            >
              <Option value="all">All calls</Option>
              {STATUSES.map((value) => (
                <Option key={value} value={value}>
                  {CALL_STATUS_LABEL[value]}
                </Option>
              ))}
            </Select>
          </Box>
          <Checkbox
            id="history-mine"
            checked={onlyMine}
            onChange={(event) => {
              setOnlyMine(event.target.checked);
            }}
          >
            Only calls I took part in
          </Checkbox>
        </Box>
        {history.isPending && <SkeletonLoader height="sizeIcon70" />}
        {history.error !== null && (
          <ErrorAlert title="Couldn't load the call history." error={history.error} />
        )}
        {history.data !== undefined &&
          (calls.length === 0 ? (
            <Text as="p" color="colorTextWeak">
              No calls yet.
            </Text>
          ) : (
            <Table aria-label="Calls" scrollHorizontally>
              <THead>
                <Tr>
                  <Th>Time</Th>
                  <Th>Caller</Th>
                  <Th>Status</Th>
                  <Th>Handled by</Th>
                  <Th>Transfers</Th>
                  <Th textAlign="right">Wait</Th>
                  <Th textAlign="right">Talk</Th>
                  <Th>Hung up by</Th>
                  <Th>
                    <ScreenReaderOnly>Details</ScreenReaderOnly>
                  </Th>
                </Tr>
              </THead>
              <TBody>
                {calls.map((call) => (
                  <CallRow
                    key={call.id}
                    call={call}
                    nameOf={nameOf}
                    onOpen={() => {
                      setOpened(call.id);
                    }}
                  />
                ))}
              </TBody>
            </Table>
          ))}
        {history.hasNextPage && (
          <Box>
            <Button
              variant="secondary"
              loading={history.isFetchingNextPage}
              onClick={() => void history.fetchNextPage()}
            >
              Load older calls
            </Button>
          </Box>
        )}
      </Stack>
      {opened !== null && (
        <CallDetails
          callId={opened}
          nameOf={nameOf}
          onClose={() => {
            setOpened(null);
          }}
        />
      )}
    </Card>
  );
}
