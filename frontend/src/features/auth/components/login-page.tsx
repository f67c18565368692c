import { Alert } from "@twilio-paste/core/alert";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Card } from "@twilio-paste/core/card";
import { Form, FormActions, FormControl } from "@twilio-paste/core/form";
import { Heading } from "@twilio-paste/core/heading";
import { Input } from "@twilio-paste/core/input";
import { Label } from "@twilio-paste/core/label";
import { Paragraph } from "@twilio-paste/core/paragraph";
import { useState, type ReactNode, type SubmitEvent } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import { ApiError } from "../../../lib/api-client";
import type { SessionEndReason } from "../../../lib/session";
import { useLogin } from "../api/login";
import { useSession } from "../hooks/use-session";

/** Why the agent is (back) on this page, if there is anything to say. */
function LoginNotice({ error, endedBy }: { error: Error | null; endedBy: SessionEndReason | null }) {
  let notice: ReactNode = null;
  if (error instanceof ApiError && error.status === 401) {
    notice = <Alert variant="error">That agent id and password don't match. Check both and try again.</Alert>;
  } else if (error !== null) {
    notice = <ErrorAlert title="Couldn't log in." error={error} />;
  } else if (endedBy === "expired") {
    notice = <Alert variant="warning">Your session has ended. Log in again to continue.</Alert>;
  }
  return notice === null ? null : <Box marginBottom="space60">{notice}</Box>;
}

export function LoginPage() {
  const { endedBy } = useSession();
  const login = useLogin();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    login.mutate({ username: username.trim(), password });
  }

  return (
    <Box display="flex" justifyContent="center" paddingY="space160" paddingX="space40">
      <Box width="100%" maxWidth="size50">
        <Card padding="space100">
          <Heading as="h1" variant="heading20">
            Warm Transfer
          </Heading>
          <Paragraph>Log in to the agent console.</Paragraph>
          <LoginNotice error={login.error} endedBy={endedBy} />
          <Form onSubmit={submit}>
            <FormControl>
              <Label htmlFor="login-username" required>
                Agent id
              </Label>
              <Input
                id="login-username"
                name="username"
                type="text"
                autoComplete="username"
                required
                value={username}
                onChange={(event) => setUsername(event.target.value)}
              />
            </FormControl>
            <FormControl>
              <Label htmlFor="login-password" required>
                Password
              </Label>
              <Input
                id="login-password"
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
            </FormControl>
            <FormActions>
              <Button variant="primary" type="submit" loading={login.isPending}>
                Log in
              </Button>
            </FormActions>
          </Form>
        </Card>
      </Box>
    </Box>
  );
}
