import { Badge } from "@twilio-paste/core/badge";
import { Box } from "@twilio-paste/core/box";
import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { SkeletonLoader } from "@twilio-paste/core/skeleton-loader";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";

import { Elapsed } from "../../../components/ui/elapsed";
import { ErrorAlert } from "../../../components/ui/error-alert";
import { useQueue } from "../api/get-queue";

/** Customers waiting for an agent, longest first, with how long they have waited. */
export function QueuePanel({ live = false }: { live?: boolean }) {
  const queue = useQueue({ poll: !live });
  const calls = queue.data ?? [];

  return (
    <Card>
      <Stack orientation="vertical" spacing="space50">
        <Box display="flex" alignItems="center" columnGap="space40">
          <Heading as="h2" variant="heading40" marginBottom="space0">
            Waiting now
          </Heading>
          {queue.data !== undefined && (
            <Badge as="span" variant={calls.length > 0 ? "warning" : "neutral"}>
              {calls.length === 1 ? "1 caller" : `${String(calls.length)} callers`}
            </Badge>
          )}
        </Box>
        {queue.isPending && <SkeletonLoader height="sizeIcon70" />}
        {queue.error !== null && <ErrorAlert title="Couldn't load the queue." error={queue.error} />}
        {queue.data !== undefined &&
          (calls.length === 0 ? (
            <Text as="p" color="colorTextWeak">
              Nobody is waiting.
            </Text>
          ) : (
            <Box as="ol" margin="space0" padding="space0" listStyleType="none" aria-label="Waiting callers">
              {calls.map((call) => (
                <Box
                  as="li"
                  key={call.id}
                  display="flex"
                  justifyContent="space-between"
                  paddingY="space30"
                  borderBottomStyle="solid"
                  borderBottomWidth="borderWidth10"
                  borderBottomColor="colorBorderWeaker"
                >
                  <Text as="span" fontWeight="fontWeightSemibold">
                    {call.from_number}
                  </Text>
                  <Text as="span" color="colorTextWeak">
                    waiting <Elapsed since={call.created_at} />
                  </Text>
                </Box>
              ))}
            </Box>
          ))}
      </Stack>
    </Card>
  );
}
