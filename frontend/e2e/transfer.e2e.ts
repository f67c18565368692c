import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startBackend, type Backend } from "./support/backend";
import { launchChromium, withScreenshots } from "./support/browser";
import { AgentConsole, Customers, hidden, SLOW, visible } from "./support/console";

const CUSTOMER = "+15551230000";

describe("a warm transfer from agent1 to agent2", () => {
  let backend: Backend;
  let browser: Browser;
  let agent1: AgentConsole | undefined;
  let agent2: AgentConsole | undefined;

  beforeAll(async () => {
    [backend, browser] = await Promise.all([startBackend(), launchChromium()]);
  });

  afterAll(async () => {
    await browser.close();
    await backend.stop();
  });

  it("rings agent1, consults agent2 with the customer on hold, and hands the call over", async () => {
    await withScreenshots(
      "warm-transfer-completed",
      () => ({ agent1: agent1?.page, agent2: agent2?.page }),
      async () => {
        [agent1, agent2] = await Promise.all([
          AgentConsole.open(browser, backend.url, "agent1"),
          AgentConsole.open(browser, backend.url, "agent2"),
        ]);
        await Promise.all([agent1.startSoftphone(), agent2.startSoftphone()]);
        // Only agent1 takes calls at first, so the customer's call is offered to agent1.
        await agent1.goAvailable();

        // The customer calls, from the developer panel.
        await expect(agent1.page.locator("#simulator-from").inputValue()).resolves.toBe(CUSTOMER);
        await agent1.page.getByRole("button", { name: "Simulate a customer call" }).click();
        const customers = agent1.page.getByRole("list", { name: "Simulated customers" });
        await visible(customers.getByText(CUSTOMER));

        await agent1.accept(`Incoming call from ${CUSTOMER}`);
        await visible(agent1.activeCall.getByText(CUSTOMER));
        await visible(customers.getByText("talking"));

        // agent2 becomes available now; agent1 starts a warm transfer (the default kind).
        await agent2.goAvailable();
        await agent1.transferTo("Agent Two");
        await visible(agent1.activeCall.getByText("Customer on hold"));
        await visible(customers.getByText("on hold"));

        await agent2.accept(`Agent One is transferring a call from ${CUSTOMER} to you`);
        await visible(agent1.activeCall.getByText("You're talking with Agent Two. The customer is on hold."));
        await visible(agent2.activeCall.getByText("Agent One is transferring this call to you."), SLOW);

        await agent1.activeCall.getByRole("button", { name: "Complete transfer" }).click();
        await visible(agent1.activeCall.getByText("No active call."));
        await visible(agent2.activeCall.getByText(CUSTOMER));
        await visible(agent2.activeCall.getByText("Connected", { exact: true }));
        await hidden(agent2.activeCall.getByText("Customer on hold"));
        await visible(customers.getByText("talking"));

        // The customer hangs up, from the developer panel.
        await customers.getByRole("button", { name: new RegExp(`Hang up\\s*\\${CUSTOMER}`) }).click();
        await visible(agent2.activeCall.getByText("No active call."));
        for (const agent of [agent1, agent2]) {
          const row = agent.history.getByRole("row").filter({ hasText: CUSTOMER });
          await visible(row.getByText("to Agent Two: completed"));
          await visible(row.getByText("Ended", { exact: true }));
        }
        expect((await Customers.login(backend.url).then((api) => api.list())).map((c) => c.hearing)).toEqual([
          "ended",
        ]);
      },
    );
  });
});
