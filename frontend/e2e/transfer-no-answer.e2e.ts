import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { withScreenshots } from "./support/browser";
import { hidden, visible } from "./support/console";
import { Stage } from "./support/scenario";

const CUSTOMER = "+15551230002";

describe("a warm transfer the target doesn't answer", () => {
  const stage = new Stage();
  beforeAll(() => stage.start());
  afterAll(() => stage.stop());

  it("rings out after AGENT_RING_TIMEOUT and tells agent1 'no answer'", async () => {
    await withScreenshots(
      "warm-transfer-no-answer",
      () => stage.pages(),
      async () => {
        const { agent1, agent2, sid } = await stage.warmTransferRinging(CUSTOMER);
        const started = Date.now();

        // AGENT_RING_TIMEOUT=5 plus the simulator's (Twilio's) 5 s buffer.
        await visible(agent1.activeCall.getByText("Agent Two didn't answer."), 30_000);
        console.log(`no-answer reported after ${String(Date.now() - started)} ms of ringing`);
        await hidden(agent2.banner);
        await visible(agent1.activeCall.getByText("The customer is back with you, off hold."));
        await expect.poll(() => stage.customers.hearing(sid), { timeout: 10_000 }).toBe("conference");

        await stage.customers.hangUp(sid);
        const row = agent1.history.getByRole("row").filter({ hasText: CUSTOMER });
        await visible(row.getByText("to Agent Two: no answer"));
      },
    );
  });
});
