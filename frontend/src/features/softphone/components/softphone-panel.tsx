import { Alert } from "@twilio-paste/core/alert";
import { Badge, type BadgeProps } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";

import type { MicrophoneState } from "../microphone";
import type { SoftphoneStatus } from "../softphone";
import { useSoftphone, useSoftphoneState } from "../use-softphone";
import { CallControls } from "./call-controls";

const STATUS: Record<SoftphoneStatus, { variant: BadgeProps["variant"]; label: string; detail: string }> = {
  off: { variant: "neutral", label: "Off", detail: "Calls can't reach you until you start the softphone." },
  starting: { variant: "info", label: "Starting", detail: "Checking the microphone and getting access…" },
  registering: { variant: "info", label: "Connecting", detail: "Connecting to Twilio…" },
  registered: { variant: "success", label: "Ready", detail: "Calls for you ring here." },
  unregistered: {
    variant: "warning",
    label: "Not connected",
    detail: "Calls can't reach you. Press “Start softphone” to reconnect.",
  },
};

const MICROPHONE: Record<MicrophoneState, string> = {
  unknown: "The browser will say when the softphone starts.",
  prompt: "The browser will ask for it when you start the softphone.",
  granted: "Allowed.",
  denied: "Blocked. Allow it for this site in the browser's address bar.",
  missing: "None found. Connect a headset or microphone.",
  unavailable: "Unavailable: open the console over https.",
};

interface SoftphonePanelProps {
  /** Answer, mute and hang up here; off where the console's call panels do it. */
  showCallControls?: boolean;
}

export function SoftphonePanel({ showCallControls = true }: SoftphonePanelProps) {
  const softphone = useSoftphone();
  const { status, microphone, problem, call } = useSoftphoneState();
  const { variant, label, detail } = STATUS[status];
  const running = status === "registering" || status === "registered";

  return (
    <Card>
      <Stack orientation="vertical" spacing="space50">
        <Box display="flex" alignItems="center" columnGap="space40">
          <Heading as="h2" variant="heading40" marginBottom="space0">
            Softphone
          </Heading>
          <Badge as="span" variant={variant}>
            {label}
          </Badge>
        </Box>
        <Text as="p">{detail}</Text>
        <Text as="p" color="colorTextWeak">
          Microphone: {MICROPHONE[microphone]}
        </Text>
        {problem !== null && (
          <Alert variant="error" onDismiss={() => softphone.dismissProblem()}>
            <Text as="p" fontWeight="fontWeightSemibold">
              {problem.title}
            </Text>
            <Text as="p">{problem.action}</Text>
          </Alert>
        )}
        {showCallControls && call !== null && <CallControls call={call} />}
        <Box>
          {running ? (
            <Button variant="secondary" onClick={() => softphone.stop()}>
              Stop softphone
            </Button>
          ) : (
            <Button variant="primary" loading={status === "starting"} onClick={() => void softphone.start()}>
              Start softphone
            </Button>
          )}
        </Box>
      </Stack>
    </Card>
  );
}
