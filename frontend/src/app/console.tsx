import { useQueryClient } from "@tanstack/react-query";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Heading } from "@twilio-paste/core/heading";
import { Text } from "@twilio-paste/core/text";

import type { Session } from "../lib/session";
import { ActiveCallPanel } from "../features/active-call";
import { logout } from "../features/auth";
import { AvailabilityToggle } from "../features/availability";
import { Directory, agentsQueryOptions } from "../features/directory";
import { SoftphonePanel, SoftphoneProvider, useSoftphoneState } from "../features/softphone";

function ConsoleLayout({ session }: { session: Session }) {
  const queryClient = useQueryClient();
  const { status } = useSoftphoneState();

  return (
    <Box minHeight="100vh" backgroundColor="colorBackground">
      <Box
        as="header"
        display="flex"
        alignItems="center"
        justifyContent="space-between"
        paddingX="space80"
        paddingY="space50"
        backgroundColor="colorBackgroundBody"
        borderBottomStyle="solid"
        borderBottomWidth="borderWidth10"
        borderBottomColor="colorBorderWeaker"
      >
        <Heading as="h1" variant="heading30" marginBottom="space0">
          Warm Transfer
        </Heading>
        <Box display="flex" alignItems="center" columnGap="space50">
          <Text as="span">
            {session.agent.name} ({session.agent.id})
          </Text>
          <Button variant="secondary" size="small" onClick={logout}>
            Log out
          </Button>
        </Box>
      </Box>
      <Box
        as="main"
        display="grid"
        gridTemplateColumns={["1fr", "1fr", "minmax(0, 2fr) minmax(0, 3fr)"]}
        columnGap="space60"
        rowGap="space60"
        padding="space80"
      >
        <Box display="flex" flexDirection="column" rowGap="space60">
          <SoftphonePanel />
          <AvailabilityToggle
            online={status === "registered"}
            onChange={() => void queryClient.invalidateQueries({ queryKey: agentsQueryOptions.queryKey })}
          />
        </Box>
        <Box display="flex" flexDirection="column" rowGap="space60">
          <ActiveCallPanel />
          <Directory currentAgentId={session.agent.id} />
        </Box>
      </Box>
    </Box>
  );
}

/** The logged-in console: where the features meet. Unmounting it on logout destroys the softphone. */
export function Console({ session }: { session: Session }) {
  return (
    <SoftphoneProvider>
      <ConsoleLayout session={session} />
    </SoftphoneProvider>
  );
}
