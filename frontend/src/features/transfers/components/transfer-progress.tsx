import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { HelpText } from "@twilio-paste/core/help-text";
import {
  ProgressStepComplete,
  ProgressStepCurrent,
  ProgressStepIncomplete,
  ProgressSteps,
} from "@twilio-paste/core/progress-steps";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";

import { ErrorAlert } from "../../../components/ui/error-alert";
import type { NameOf } from "../../../lib/format";
import type { Transfer } from "../../../types/api";
import { useEndTransfer } from "../api/end-transfer";
import { progressWords, targetOf } from "../transfer-words";

const STEPS = [
  { status: "dialing", label: "Dialing" },
  { status: "ringing", label: "Ringing" },
  { status: "consulting", label: "Consulting" },
] as const;

function Steps({ transfer }: { transfer: Transfer }) {
  const current = STEPS.findIndex((step) => step.status === transfer.status);
  return (
    <ProgressSteps aria-label="Transfer progress">
      {STEPS.map((step, index) =>
        index < current ? (
          <ProgressStepComplete key={step.status} as="div">
            {step.label}
          </ProgressStepComplete>
        ) : index === current ? (
          <ProgressStepCurrent key={step.status} as="div">
            {step.label}
          </ProgressStepCurrent>
        ) : (
          <ProgressStepIncomplete key={step.status} as="div">
            {step.label}
          </ProgressStepIncomplete>
        ),
      )}
    </ProgressSteps>
  );
}

/** A transfer the agent started, under way: where it stands, and cancel or complete it. */
export function TransferProgress({ transfer, nameOf }: { transfer: Transfer; nameOf: NameOf }) {
  const end = useEndTransfer(transfer);
  const consulting = transfer.status === "consulting";
  const target = targetOf(transfer, nameOf);

  return (
    <Stack orientation="vertical" spacing="space50">
      <Steps transfer={transfer} />
      <Text as="p" aria-live="polite" fontWeight="fontWeightSemibold">
        {progressWords(transfer, nameOf)}
      </Text>
      <Box display="flex" columnGap="space30" flexWrap="wrap">
        <Button
          variant="primary"
          disabled={!consulting || end.isPending}
          loading={end.isPending && end.variables === "complete"}
          aria-describedby={consulting ? undefined : "transfer-complete-help"}
          onClick={() => {
            end.mutate("complete");
          }}
        >
          Complete transfer
        </Button>
        <Button
          variant="destructive_secondary"
          disabled={end.isPending}
          loading={end.isPending && end.variables === "cancel"}
          onClick={() => {
            end.mutate("cancel");
          }}
        >
          Cancel transfer
        </Button>
      </Box>
      {!consulting && (
        <HelpText id="transfer-complete-help">You can complete the transfer once {target} joins.</HelpText>
      )}
      {end.error !== null && (
        <ErrorAlert
          title={
            end.variables === "complete" ? "Couldn't complete the transfer." : "Couldn't cancel the transfer."
          }
          error={end.error}
          onDismiss={() => {
            end.reset();
          }}
        />
      )}
    </Stack>
  );
}
