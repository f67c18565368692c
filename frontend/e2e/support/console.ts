import type { Browser, BrowserContext, Locator, Page } from "playwright-core";

/** Waits long enough for the simulator's rings (up to AGENT_RING_TIMEOUT 5 s + Twilio's 5 s buffer). */
export const SLOW = 20_000;

export const AGENTS = {
  agent1: { id: "agent1", name: "Agent One", password: "agent1-dev-password" },
  agent2: { id: "agent2", name: "Agent Two", password: "agent2-dev-password" },
} as const;

export type AgentKey = keyof typeof AGENTS;

export function visible(locator: Locator, timeout = SLOW): Promise<void> {
  return locator.first().waitFor({ state: "visible", timeout });
}

export function hidden(locator: Locator, timeout = SLOW): Promise<void> {
  return locator.first().waitFor({ state: "hidden", timeout });
}

/** One agent's console in its own browser context (its own sessionStorage, so its own login). */
export class AgentConsole {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly agent: (typeof AGENTS)[AgentKey];

  private constructor(context: BrowserContext, page: Page, key: AgentKey) {
    this.context = context;
    this.page = page;
    this.agent = AGENTS[key];
  }

  static async open(browser: Browser, baseUrl: string, key: AgentKey): Promise<AgentConsole> {
    const context = await browser.newContext({ baseURL: baseUrl, permissions: ["microphone"] });
    const page = await context.newPage();
    page.setDefaultTimeout(SLOW);
    const agentConsole = new AgentConsole(context, page, key);
    await page.goto("/");
    await page.locator("#login-username").fill(agentConsole.agent.id);
    await page.locator("#login-password").fill(agentConsole.agent.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await visible(page.getByRole("heading", { name: "Active call" }));
    return agentConsole;
  }

  async startSoftphone(): Promise<void> {
    await this.page.getByRole("button", { name: "Start softphone" }).click();
    await visible(this.page.getByRole("button", { name: "Stop softphone" }));
    // Registered with the simulator: the availability switch opens up.
    await this.page
      .getByRole("radio", { name: "Available" })
      .and(this.page.locator(":enabled"))
      .waitFor({ state: "attached" });
  }

  async goAvailable(): Promise<void> {
    // Paste's radio buttons hide the input behind its label: click the label, as a person would.
    await this.page
      .getByRole("group", { name: "Take new calls?" })
      .getByText("Available", { exact: true })
      .click();
    await this.page.waitForFunction(
      () =>
        document.querySelector<HTMLInputElement>('input[name="availability"][value="available"]')?.checked,
    );
    // The server has it: the header's badge says so.
    await visible(this.page.locator("header").getByText("Available", { exact: true }).first());
  }

  get banner(): Locator {
    return this.page.getByRole("region", { name: "Incoming call" });
  }

  get activeCall(): Locator {
    return this.page.locator('section[aria-labelledby="active-call-heading"]');
  }

  get history(): Locator {
    return this.page.getByRole("table", { name: "Calls" });
  }

  async accept(headline: string): Promise<void> {
    await visible(this.banner.getByText(headline));
    const accept = this.banner.getByRole("button", { name: "Accept" });
    await accept.and(this.page.locator(":enabled")).waitFor({ timeout: SLOW });
    await accept.click();
    await hidden(this.banner);
    await visible(this.activeCall.getByText("Connected", { exact: true }));
  }

  async transferTo(name: string): Promise<void> {
    await this.activeCall.getByRole("button", { name: `Transfer to ${name}` }).click();
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** The simulated customers, through the simulator's API (with a console login, as the dev panel does). */
export class Customers {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static async login(baseUrl: string): Promise<Customers> {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: "POST",
      body: new URLSearchParams({ username: AGENTS.agent1.id, password: AGENTS.agent1.password }),
    });
    if (!response.ok) throw new Error(`login: ${String(response.status)} ${await response.text()}`);
    const { access_token: token } = (await response.json()) as { access_token: string };
    return new Customers(baseUrl, token);
  }

  async #request<T>(method: "GET" | "POST", path: string, json?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(json === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    if (!response.ok)
      throw new Error(`${method} ${path}: ${String(response.status)} ${await response.text()}`);
    return (await response.json()) as T;
  }

  call(from: string): Promise<{ call_sid: string }> {
    return this.#request("POST", "/simulator/customers/calls", { from });
  }

  list(): Promise<{ call_sid: string; from: string; hearing: string }[]> {
    return this.#request("GET", "/simulator/customers/calls");
  }

  async hearing(sid: string): Promise<string> {
    return (await this.#request<{ hearing: string }>("GET", `/simulator/customers/calls/${sid}`)).hearing;
  }

  hangUp(sid: string): Promise<unknown> {
    return this.#request("POST", `/simulator/customers/calls/${sid}/hangup`);
  }
}
