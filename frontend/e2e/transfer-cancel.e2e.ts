import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { withScreenshots } from "./support/browser";
import { hidden, visible } from "./support/console";
import { Stage } from "./support/scenario";

const CUSTOMER = "+15551230001";

describe("canceling a warm transfer while the target rings", () => {
  const stage = new Stage();
  beforeAll(() => stage.start());
  afterAll(() => stage.stop());

  it("stops agent2's ringing and gives agent1 the customer back, off hold", async () => {
    await withScreenshots(
      "warm-transfer-canceled",
      () => stage.pages(),
      async () => {
        const { agent1, agent2, sid } = await stage.warmTransferRinging(CUSTOMER);

        await agent1.activeCall.getByRole("button", { name: "Cancel transfer" }).click();

        await hidden(agent2.banner);
        await visible(agent1.activeCall.getByText("The transfer to Agent Two was canceled"));
        // Off hold again: the panel's badge and what the customer hears.
        await hidden(agent1.activeCall.getByText("Customer on hold"));
        await visible(agent1.activeCall.getByText("Connected", { exact: true }));
        await visible(agent2.activeCall.getByText("No active call."));
        await expect.poll(() => stage.customers.hearing(sid), { timeout: 10_000 }).toBe("conference");

        await stage.customers.hangUp(sid);
        await visible(agent1.activeCall.getByText("No active call."));
        const row = agent1.history.getByRole("row").filter({ hasText: CUSTOMER });
        await visible(row.getByText("to Agent Two: canceled"));
      },
    );
  });
});
