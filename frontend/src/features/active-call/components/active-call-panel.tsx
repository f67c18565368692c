import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { Paragraph } from "@twilio-paste/core/paragraph";

/** Placeholder: the call's participants, hold and transfer controls come with the server's call state. */
export function ActiveCallPanel() {
  return (
    <Card>
      <Heading as="h2" variant="heading40">
        Active call
      </Heading>
      <Paragraph marginBottom="space0">Who is on your call, hold and transfer will show here.</Paragraph>
    </Card>
  );
}
