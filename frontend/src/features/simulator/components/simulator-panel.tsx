import { Badge, type BadgeProps } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Card } from "@twilio-paste/core/card";
import {
  Disclosure,
  DisclosureContent,
  DisclosureHeading,
  useDisclosureState,
} from "@twilio-paste/core/disclosure";
import { HelpText } from "@twilio-paste/core/help-text";
import { Input } from "@twilio-paste/core/input";
import { Label } from "@twilio-paste/core/label";
import { ScreenReaderOnly } from "@twilio-paste/core/screen-reader-only";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";
import { useState, type SubmitEvent } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import type { CustomerCall } from "../../../types/api";
import {
  useCustomerCalls,
  useHangUpCustomer,
  useSimulatedMode,
  useStartCustomerCall,
} from "../api/customer-calls";

export const DEFAULT_FROM = "+15551230000";
const E164 = /^\+[1-9]\d{1,14}$/;

const HEARING: Record<CustomerCall["hearing"], { label: string; variant: BadgeProps["variant"] }> = {
  ringing: { label: "ringing", variant: "neutral" },
  message: { label: "hearing a message", variant: "info" },
  waiting: { label: "waiting music", variant: "warning" },
  conference: { label: "talking", variant: "success" },
  hold: { label: "on hold", variant: "warning" },
  silence: { label: "silence", variant: "neutral" },
  ended: { label: "ended", variant: "neutral" },
};

function CustomerRow({ call }: { call: CustomerCall }) {
  const hangUp = useHangUpCustomer();
  const hearing = HEARING[call.hearing];
  const ended = call.hearing === "ended";
  return (
    <Box
      as="li"
      display="flex"
      alignItems="center"
      justifyContent="space-between"
      columnGap="space40"
      paddingY="space30"
      borderBottomStyle="solid"
      borderBottomWidth="borderWidth10"
      borderBottomColor="colorBorderWeaker"
      data-call-sid={call.call_sid}
    >
      <Box display="flex" alignItems="center" columnGap="space40">
        <Text as="span" fontWeight="fontWeightSemibold">
          {call.from}
        </Text>
        <Text as="span" color="colorTextWeak">
          {call.status}
        </Text>
        <Badge as="span" variant={hearing.variant}>
          {hearing.label}
        </Badge>
      </Box>
      {!ended && (
        <Button
          variant="destructive_secondary"
          size="small"
          loading={hangUp.isPending}
          onClick={() => {
            hangUp.mutate(call.call_sid);
          }}
        >
          Hang up<ScreenReaderOnly> {call.from}</ScreenReaderOnly>
        </Button>
      )}
    </Box>
  );
}

function DeveloperTools({ open }: { open: boolean }) {
  const [from, setFrom] = useState(DEFAULT_FROM);
  const start = useStartCustomerCall();
  const customers = useCustomerCalls({ enabled: open });
  const valid = E164.test(from.trim());

  const submit = (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (valid) start.mutate(from.trim());
  };

  return (
    <Stack orientation="vertical" spacing="space50">
      <form onSubmit={submit} aria-label="Simulate a customer call">
        <Label htmlFor="simulator-from">From</Label>
        <Box display="flex" columnGap="space40" alignItems="flex-start">
          <Box flexGrow={1}>
            <Input
              id="simulator-from"
              type="tel"
              value={from}
              hasError={!valid}
              aria-describedby="simulator-from-help"
              onChange={(event) => {
                setFrom(event.target.value);
              }}
            />
          </Box>
          <Button type="submit" variant="primary" disabled={!valid} loading={start.isPending}>
            Simulate a customer call
          </Button>
        </Box>
        <HelpText id="simulator-from-help" variant={valid ? "default" : "error"}>
          {valid ? "The customer's number, in E.164 form." : "Enter a number like +15551230000."}
        </HelpText>
      </form>
      {start.error !== null && <ErrorAlert title="Couldn't start the call." error={start.error} />}
      {customers.error !== null && (
        <ErrorAlert title="Couldn't load the simulated customers." error={customers.error} />
      )}
      {customers.data !== undefined &&
        (customers.data.length === 0 ? (
          <Text as="p" color="colorTextWeak">
            No simulated customers yet.
          </Text>
        ) : (
          <Box as="ul" margin="space0" padding="space0" listStyleType="none" aria-label="Simulated customers">
            {customers.data.map((call) => (
              <CustomerRow key={call.call_sid} call={call} />
            ))}
          </Box>
        ))}
    </Stack>
  );
}

/**
 * Simulated voice mode only: play the customer's part against the built-in Twilio simulator —
 * call the support number, see what each customer hears, hang up for them.
 */
export function SimulatorPanel() {
  const simulated = useSimulatedMode();
  const disclosure = useDisclosureState({ visible: true });
  if (!simulated) return null;
  return (
    <Card>
      <Disclosure state={disclosure}>
        <DisclosureHeading as="h2" variant="heading40">
          Simulator (developer tools)
        </DisclosureHeading>
        <DisclosureContent>
          <DeveloperTools open={disclosure.visible} />
        </DisclosureContent>
      </Disclosure>
    </Card>
  );
}
