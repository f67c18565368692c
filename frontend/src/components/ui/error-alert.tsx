import { Alert } from "@twilio-paste/core/alert";
import { Text } from "@twilio-paste/core/text";

import { ApiError } from "../../lib/api-client";

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

interface ErrorAlertProps {
  /** What failed, in the agent's words, e.g. "Couldn't load the directory." */
  title: string;
  error: unknown;
}

export function ErrorAlert({ title, error }: ErrorAlertProps) {
  return (
    <Alert variant="error">
      <Text as="p" fontWeight="fontWeightSemibold">
        {title}
      </Text>
      <Text as="p">{errorMessage(error)}</Text>
    </Alert>
  );
}
