import type { Browser } from "playwright-core";

import { startBackend, type Backend } from "./backend";
import { launchChromium } from "./browser";
import { AgentConsole, Customers, visible } from "./console";

/** One backend and one Chromium per test file; two agents' consoles in their own contexts. */
export class Stage {
  backend!: Backend;
  browser!: Browser;
  customers!: Customers;
  agent1: AgentConsole | undefined;
  agent2: AgentConsole | undefined;

  async start(): Promise<void> {
    [this.backend, this.browser] = await Promise.all([startBackend(), launchChromium()]);
    this.customers = await Customers.login(this.backend.url);
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await this.backend.stop();
  }

  pages() {
    return { agent1: this.agent1?.page, agent2: this.agent2?.page };
  }

  /** Both agents logged in with their softphones registered; only agent1 available. */
  async agentsReady(): Promise<{ agent1: AgentConsole; agent2: AgentConsole }> {
    const [agent1, agent2] = await Promise.all([
      AgentConsole.open(this.browser, this.backend.url, "agent1"),
      AgentConsole.open(this.browser, this.backend.url, "agent2"),
    ]);
    this.agent1 = agent1;
    this.agent2 = agent2;
    await Promise.all([agent1.startSoftphone(), agent2.startSoftphone()]);
    // Only agent1 takes calls at first, so the customer's call is offered to agent1.
    await agent1.goAvailable();
    return { agent1, agent2 };
  }

  /**
   * A customer calls (through the simulator's API), agent1 answers, agent2 goes available and
   * agent1 starts a warm transfer to agent2, whose softphone rings.
   */
  async warmTransferRinging(from: string) {
    const { agent1, agent2 } = await this.agentsReady();
    const { call_sid: sid } = await this.customers.call(from);
    await agent1.accept(`Incoming call from ${from}`);
    await agent2.goAvailable();
    await agent1.transferTo("Agent Two");
    await visible(agent1.activeCall.getByText("Ringing Agent Two…"));
    await visible(agent1.activeCall.getByText("Customer on hold"));
    await visible(agent2.banner.getByText(`Agent One is transferring a call from ${from} to you`));
    return { agent1, agent2, sid };
  }
}
