import { Box } from "@twilio-paste/core/box";
import { Button } from "@twilio-paste/core/button";
import { Text } from "@twilio-paste/core/text";

import { ShortcutHint } from "../../../components/ui/shortcut-hint";
import { namesFrom } from "../../../lib/format";
import { useHotkeys } from "../../../lib/hotkeys";
import type { Agent, Call } from "../../../types/api";
import { describeOffer } from "../call-words";

interface IncomingCallBannerProps {
  /** The call the server is offering the agent (a new call or a transfer), once it has said so. */
  offer: Call | null;
  /** The softphone rings: the call can be accepted or rejected. */
  ringing: boolean;
  agentId: string;
  agents: readonly Agent[];
  onAccept: () => void;
  onReject: () => void;
}

/**
 * A call for the agent. The softphone only knows the caller as the Twilio number that dials it;
 * the server's `call` event for the offer tells who is really calling, or which colleague is
 * handing a call over. Shown from whichever comes first.
 */
export function IncomingCallBanner({
  offer,
  ringing,
  agentId,
  agents,
  onAccept,
  onReject,
}: IncomingCallBannerProps) {
  useHotkeys({ a: onAccept, r: onReject }, ringing);
  if (offer === null && !ringing) return null;

  const headline = offer === null ? "Incoming call" : describeOffer(offer, agentId, namesFrom(agents));
  return (
    <Box
      as="section"
      aria-label="Incoming call"
      padding="space60"
      borderRadius="borderRadius30"
      borderStyle="solid"
      borderWidth="borderWidth20"
      borderColor="colorBorderPrimary"
      backgroundColor="colorBackgroundPrimaryWeakest"
    >
      <Text
        as="p"
        fontSize="fontSize50"
        lineHeight="lineHeight50"
        fontWeight="fontWeightSemibold"
        aria-live="assertive"
      >
        {headline}
      </Text>
      {!ringing && (
        <Text as="p" color="colorTextWeak" marginTop="space20">
          Waiting for your softphone to ring… (start the softphone if it's off)
        </Text>
      )}
      <Box
        display="flex"
        alignItems="center"
        columnGap="space30"
        rowGap="space30"
        flexWrap="wrap"
        marginTop="space40"
      >
        <Button variant="primary" disabled={!ringing} aria-keyshortcuts="A" onClick={onAccept}>
          Accept
        </Button>
        <Button variant="destructive_secondary" disabled={!ringing} aria-keyshortcuts="R" onClick={onReject}>
          Reject
        </Button>
        {ringing && (
          <ShortcutHint
            shortcuts={[
              { keys: ["A"], does: "accept" },
              { keys: ["R"], does: "reject" },
            ]}
          />
        )}
      </Box>
    </Box>
  );
}
