import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { HelpText } from "@twilio-paste/core/help-text";
import { Input } from "@twilio-paste/core/input";
import { Label } from "@twilio-paste/core/label";
import { Radio, RadioGroup } from "@twilio-paste/core/radio-group";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";
import { SearchIcon } from "@twilio-paste/icons/esm/SearchIcon";
import { useQuery } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import { configQueryOptions } from "../../../lib/config";
import { filterAgents } from "../../../lib/filter-agents";
import type { Agent, TransferRequest } from "../../../types/api";
import { useStartTransfer } from "../api/start-transfer";

type Kind = "warm" | "three_way" | "cold";

const KINDS: { value: Kind; label: string; help: string }[] = [
  { value: "warm", label: "Warm", help: "Talk to them first while the customer holds with music." },
  { value: "three_way", label: "Three-way", help: "Talk to them with the customer still on the line." },
  { value: "cold", label: "Cold", help: "Hand the call over now: you leave at once." },
];

function isKind(value: string): value is Kind {
  return KINDS.some((kind) => kind.value === value);
}

function requestFor(kind: Kind, target: { to_agent_id: string } | { to_number: string }): TransferRequest {
  return { ...target, mode: kind === "cold" ? "cold" : "warm", hold_customer: kind !== "three_way" };
}

/** As the server checks it: `+`, a country code and the number, 7 to 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;

interface TransferPickerProps {
  callId: number;
  agentId: string;
  agents: readonly Agent[];
}

/** Whom to transfer to (an available colleague, or a number) and how (warm, three-way, cold). */
export function TransferPicker({ callId, agentId, agents }: TransferPickerProps) {
  const start = useStartTransfer(callId);
  // Offered only when the server allows some outside numbers (TRANSFER_ALLOWED_NUMBERS).
  const numbersAllowed = useQuery(configQueryOptions).data?.transfer_to_numbers === true;
  const [kind, setKind] = useState<Kind>("warm");
  const [search, setSearch] = useState("");
  const [number, setNumber] = useState("");
  const [numberInvalid, setNumberInvalid] = useState(false);

  // Only colleagues the server would accept: available (not away, offline or on a call), not me.
  const colleagues = agents.filter((agent) => agent.presence === "available" && agent.id !== agentId);
  const shown = filterAgents(colleagues, search);

  function transferToNumber(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = number.replace(/[\s()-]/g, "");
    if (!E164.test(trimmed)) {
      setNumberInvalid(true);
      return;
    }
    setNumberInvalid(false);
    start.mutate(requestFor(kind, { to_number: trimmed }));
  }

  return (
    <Stack orientation="vertical" spacing="space50">
      <RadioGroup
        name={`transfer-kind-${String(callId)}`}
        legend="How"
        orientation="horizontal"
        value={kind}
        onChange={(value) => {
          if (isKind(value)) setKind(value);
        }}
      >
        {KINDS.map(({ value, label, help }) => (
          <Radio key={value} id={`transfer-kind-${value}`} value={value} helpText={help}>
            {label}
          </Radio>
        ))}
      </RadioGroup>

      <Box>
        <Label htmlFor="transfer-search">Search available agents</Label>
        <Input
          id="transfer-search"
          type="search"
          placeholder="Name or id"
          insertBefore={<SearchIcon decorative />}
          value={search}
          onChange={(event) => {
            setSearch(event.target.value);
          }}
        />
      </Box>
      {shown.length === 0 ? (
        <Text as="p" color="colorTextWeak">
          {colleagues.length === 0
            ? "No colleague is available right now."
            : `No available agent matches “${search.trim()}”.`}
        </Text>
      ) : (
        <Box as="ul" margin="space0" padding="space0" listStyleType="none" aria-label="Available agents">
          {shown.map((agent) => (
            <Box
              as="li"
              key={agent.id}
              display="flex"
              alignItems="center"
              justifyContent="space-between"
              paddingY="space20"
            >
              <Text as="span">
                <Text as="span" fontWeight="fontWeightSemibold">
                  {agent.name}
                </Text>{" "}
                <Text as="span" color="colorTextWeak">
                  {agent.id}
                </Text>
              </Text>
              <Button
                variant="secondary"
                size="small"
                aria-label={`Transfer to ${agent.name}`}
                disabled={start.isPending}
                onClick={() => {
                  start.mutate(requestFor(kind, { to_agent_id: agent.id }));
                }}
              >
                Transfer
              </Button>
            </Box>
          ))}
        </Box>
      )}

      {numbersAllowed && (
        <Box as="form" onSubmit={transferToNumber}>
          <Label htmlFor="transfer-number">Or transfer to a number</Label>
          <Box display="flex" columnGap="space30">
            <Box flexGrow={1}>
              <Input
                id="transfer-number"
                type="tel"
                autoComplete="off"
                placeholder="+442071234567"
                aria-describedby="transfer-number-help"
                hasError={numberInvalid}
                value={number}
                onChange={(event) => {
                  setNumber(event.target.value);
                }}
              />
            </Box>
            <Button variant="secondary" type="submit" disabled={start.isPending}>
              Transfer to number
            </Button>
          </Box>
          <HelpText id="transfer-number-help" variant={numberInvalid ? "error" : "default"}>
            {numberInvalid
              ? "Enter the number in international format: +, the country code, then the number."
              : "International format, e.g. +442071234567. The server allows only some numbers."}
          </HelpText>
        </Box>
      )}

      {start.error !== null && (
        <ErrorAlert
          title="Couldn't start the transfer."
          error={start.error}
          onDismiss={() => {
            start.reset();
          }}
        />
      )}
    </Stack>
  );
}
