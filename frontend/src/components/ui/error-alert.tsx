import { Alert } from "@twilio-paste/core/alert";
import { Text } from "@twilio-paste/core/text";

import { ApiError } from "../../lib/api-client";

/**
 * The backend's error codes whose `detail` is not fit to show as is: technical (Twilio's own
 * message), or naming ids where the agent thinks in people. Any other code shows its `detail`.
 */
const PLAIN_WORDS: Record<string, string> = {
  twilio_error: "Twilio couldn't do that just now, so nothing was changed. Try again.",
  conference_not_ready: "The call is still connecting. Try again in a moment.",
  call_ended: "This call has already ended.",
  not_on_call: "You're not connected to this call any more.",
  transfer_in_progress: "This call already has a transfer under way.",
  transfer_not_active: "That transfer has already ended.",
  target_not_connected: "They haven't answered yet: wait until they join, or cancel the transfer.",
  target_unavailable: "That agent can't take a call right now: they're away, offline or on another call.",
  transfer_to_self: "You can't transfer a call to yourself.",
  not_transferring: "Only the agent who started the transfer, while still on the call, can do that.",
  number_not_allowed: "Transfers to this number aren't allowed on this server.",
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return PLAIN_WORDS[error.error] ?? error.detail;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

interface ErrorAlertProps {
  /** What failed, in the agent's words, e.g. "Couldn't load the directory." */
  title: string;
  error: unknown;
  onDismiss?: () => void;
}

export function ErrorAlert({ title, error, onDismiss }: ErrorAlertProps) {
  return (
    <Alert variant="error" onDismiss={onDismiss}>
      <Text as="p" fontWeight="fontWeightSemibold">
        {title}
      </Text>
      <Text as="p">{errorMessage(error)}</Text>
    </Alert>
  );
}
