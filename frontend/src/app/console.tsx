import { useQueryClient } from "@tanstack/react-query";
import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Heading } from "@twilio-paste/core/heading";
import { SkeletonLoader } from "@twilio-paste/core/skeleton-loader";
import { Text } from "@twilio-paste/core/text";
import { lazy, Suspense, type ComponentProps } from "react";

import type { Session } from "../lib/session";
import { ActiveCallPanel, IncomingCallBanner, type SoftphoneLeg } from "../features/active-call";
import { logout } from "../features/auth";
import { AvailabilityToggle } from "../features/availability";
import { agentsQueryOptions, Directory, useAgents } from "../features/directory";
import { LiveIndicator, useEventStream } from "../features/events";
import { QueuePanel } from "../features/queue";
import { SimulatorPanel } from "../features/simulator";
import { SoftphonePanel, SoftphoneProvider, useSoftphone, useSoftphoneState } from "../features/softphone";
import { TransferPanel } from "../features/transfers";
import { useMyCalls } from "../lib/live-calls";
import { applyLiveEvent } from "./live-sync";

// The history is below the fold and brings its own table and dialog: loaded after the console.
const CallHistory = lazy(() =>
  import("../features/history").then(({ CallHistory }) => ({ default: CallHistory })),
);

function ConsoleLayout({ session }: { session: Session }) {
  const agentId = session.agent.id;
  const queryClient = useQueryClient();
  const stream = useEventStream((event) => {
    applyLiveEvent(queryClient, agentId, event);
  });
  const live = stream === "live";
  const agents = useAgents({ poll: !live }).data ?? [];
  const { current, offer, last } = useMyCalls(agentId);

  const softphone = useSoftphone();
  const { status, call: phoneCall } = useSoftphoneState();
  const ringing = phoneCall?.status === "pending";
  const answered = phoneCall !== null && !ringing;
  const leg: SoftphoneLeg = {
    connected: answered,
    muted: phoneCall?.muted ?? false,
    setMuted: (muted) => {
      softphone.setMuted(muted);
    },
    hangUp: () => {
      softphone.hangUp();
    },
  };

  return (
    <Box minHeight="100vh" backgroundColor="colorBackground">
      <Box
        as="header"
        display="flex"
        alignItems="center"
        justifyContent="space-between"
        columnGap="space60"
        rowGap="space40"
        flexWrap="wrap"
        paddingX="space80"
        paddingY="space50"
        backgroundColor="colorBackgroundBody"
        borderBottomStyle="solid"
        borderBottomWidth="borderWidth10"
        borderBottomColor="colorBorderWeaker"
      >
        <Box display="flex" alignItems="center" columnGap="space50">
          <Heading as="h1" variant="heading30" marginBottom="space0">
            Warm Transfer
          </Heading>
          <LiveIndicator status={stream} />
        </Box>
        <Box display="flex" alignItems="center" columnGap="space60" rowGap="space40" flexWrap="wrap">
          <AvailabilityToggle
            online={status === "registered"}
            onChange={() => {
              if (!live) void queryClient.invalidateQueries({ queryKey: agentsQueryOptions.queryKey });
            }}
          />
          <Text as="span">
            {session.agent.name} ({agentId})
          </Text>
          <Button variant="secondary" size="small" onClick={logout}>
            Log out
          </Button>
        </Box>
      </Box>
      <Box
        as="main"
        display="grid"
        gridTemplateColumns={["1fr", "1fr", "minmax(0, 3fr) minmax(0, 2fr)"]}
        columnGap="space60"
        rowGap="space60"
        padding="space80"
      >
        <Box display="flex" flexDirection="column" rowGap="space60">
          <IncomingCallBanner
            offer={answered ? null : offer}
            ringing={ringing}
            agentId={agentId}
            agents={agents}
            onAccept={() => {
              softphone.accept();
            }}
            onReject={() => {
              softphone.reject();
            }}
          />
          <ActiveCallPanel call={current} lastCall={last} agentId={agentId} agents={agents} softphone={leg}>
            {current !== null && <TransferPanel call={current} agentId={agentId} agents={agents} />}
          </ActiveCallPanel>
          <SoftphonePanel showCallControls={false} />
          <SimulatorPanel />
        </Box>
        <Box display="flex" flexDirection="column" rowGap="space60">
          <QueuePanel live={live} />
          <Directory currentAgentId={agentId} live={live} />
        </Box>
        <Box gridColumn={["auto", "auto", "1 / -1"]}>
          <Suspense fallback={<SkeletonLoader height="size20" />}>
            <CallHistory agentId={agentId} agents={agents} />
          </Suspense>
        </Box>
      </Box>
    </Box>
  );
}

interface ConsoleProps {
  session: Session;
  /** Tests pass a fake voice device and microphone. */
  softphone?: Omit<ComponentProps<typeof SoftphoneProvider>, "children">;
}

/** The logged-in console: where the features meet. Unmounting it on logout destroys the softphone. */
export function Console({ session, softphone }: ConsoleProps) {
  return (
    <SoftphoneProvider {...softphone}>
      <ConsoleLayout session={session} />
    </SoftphoneProvider>
  );
}
