import { act, screen, waitFor, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";

import { FakeEventSource } from "../testing/fake-event-source";
import { FakeVoiceCall, fakeDeviceFactory, fakeMicrophone } from "../testing/fake-voice-device";
import {
  ada,
  agentLeg,
  CUSTOMER_NUMBER,
  customerLeg,
  directory,
  grace,
  makeCall,
  makeTransfer,
  offeredCall,
  signIn,
  SUPPORT_NUMBER,
} from "../testing/fixtures";
import { renderWithProviders } from "../testing/render";
import { server } from "../testing/server";
import type { Agent, Call, Transfer } from "../types/api";
import { App } from "./app";
import { Console } from "./console";

const graceAvailable: Agent = { ...grace, availability: "available", presence: "available" };

function renderConsole({ fakeTimers = false } = {}) {
  const session = signIn(ada);
  const factory = fakeDeviceFactory();
  const utils = renderWithProviders(
    <Console
      session={session}
      softphone={{ createDevice: factory.createDevice, microphone: fakeMicrophone() }}
    />,
    { userEventOptions: fakeTimers ? { advanceTimers: vi.advanceTimersByTime } : {} },
  );
  return { ...utils, factory };
}

/** The console asked for a ticket and opened the stream with it. */
async function stream(): Promise<FakeEventSource> {
  await waitFor(() => expect(FakeEventSource.instances.length).toBeGreaterThan(0));
  return FakeEventSource.latest();
}

/** Plays server events; TanStack tells the panels on the next tick. */
async function serverSays(play: () => void) {
  await act(async () => {
    play();
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

function liveStatus() {
  return screen.getByRole("status", { name: "Live updates" });
}

function requestsTo(path: string) {
  const seen: { method: string; authorization: string | null }[] = [];
  server.events.on("request:start", ({ request }) => {
    if (new URL(request.url).pathname === path)
      seen.push({ method: request.method, authorization: request.headers.get("Authorization") });
  });
  return seen;
}

afterEach(() => {
  vi.useRealTimers();
  server.events.removeAllListeners();
});

describe("the console's live events", () => {
  it("opens the stream with a ticket bought with the session, and goes live on hello", async () => {
    const tickets = requestsTo("/api/events/ticket");
    renderConsole();
    expect(liveStatus()).toHaveTextContent("Connecting…");

    const source = await stream();

    expect(tickets).toEqual([{ method: "POST", authorization: "Bearer token-for-agent1" }]);
    expect(source.url).toMatch(/^\/api\/events\?ticket=ticket-\d+$/);
    await serverSays(() => {
      source.greet({ me: ada, agents: directory });
    });
    expect(liveStatus()).toHaveTextContent("Live");
  });

  it("feeds the directory, the queue and the agent's calls from events", async () => {
    renderConsole();
    const source = await stream();
    await screen.findByText("Grace Hopper");

    const waiting = makeCall({
      id: 9,
      status: "queued",
      from_number: "+15550000009",
      answered_at: null,
      legs: [customerLeg()],
      created_at: new Date().toISOString(),
    });
    await serverSays(() => {
      source.greet({
        me: ada,
        agents: [ada, graceAvailable],
        queue: [waiting],
        calls: [makeCall({ legs: [customerLeg({ on_hold: true }), agentLeg(ada.id)] })],
      });
    });

    const agents = within(screen.getByRole("list", { name: "Agents" }));
    expect(agents.getAllByRole("listitem")).toHaveLength(2);
    expect(agents.getByText("Grace Hopper").closest("li")).toHaveTextContent("Available");
    expect(
      within(screen.getByRole("list", { name: "Waiting callers" })).getByText("+15550000009"),
    ).toBeInTheDocument();
    expect(screen.getByLabelText("Caller")).toHaveTextContent(CUSTOMER_NUMBER);
    expect(screen.getByRole("button", { name: "Resume customer" })).toBeInTheDocument();

    await serverSays(() => {
      source.emit("directory", { agents: [ada, { ...graceAvailable, presence: "busy", on_call: true }] });
    });
    expect(agents.getByText("Grace Hopper").closest("li")).toHaveTextContent("On a call");
  });

  it("puts the agents an `agents` event names in place of theirs and keeps the rest", async () => {
    renderConsole();
    const source = await stream();
    await serverSays(() => {
      source.greet({ me: ada, agents: directory });
    });
    const agents = within(screen.getByRole("list", { name: "Agents" }));
    const entries = () => agents.getAllByRole("listitem").map((item) => item.textContent);
    const before = entries();
    expect(before).toHaveLength(4);

    await serverSays(() => {
      source.emit("agents", {
        agents: [{ ...grace, availability: "available", presence: "busy", on_call: true }],
      });
    });
    expect(agents.getByText("Grace Hopper").closest("li")).toHaveTextContent("On a call");
    const after = entries();
    expect(after.filter((text, index) => text !== before[index])).toEqual([after[1]]);

    expect(screen.getByRole("radio", { name: "Available" })).toBeChecked();
    await serverSays(() => {
      source.emit("agents", { agents: [{ ...ada, availability: "away", presence: "away" }] });
    });
    expect(screen.getByRole("radio", { name: "Away" })).toBeChecked(); // the agent's own entry
    expect(entries()).toHaveLength(4);
  });

  it("stops polling the directory once the stream is live", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const directoryRequests = requestsTo("/api/agents");
    renderConsole({ fakeTimers: true });
    const source = await stream();
    await screen.findByText("Grace Hopper");
    const before = directoryRequests.length;

    await act(() => vi.advanceTimersByTimeAsync(15_000));
    expect(directoryRequests.length).toBeGreaterThan(before);

    await serverSays(() => {
      source.greet({ me: ada, agents: directory });
    });
    const live = directoryRequests.length;
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(directoryRequests).toHaveLength(live);
  });

  it("reconnects with a new ticket after an error, and catches up on calls that ended meanwhile", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    server.use(
      http.get("/api/calls/42", () =>
        HttpResponse.json(
          makeCall({
            status: "completed",
            ended_by: "customer",
            legs: [customerLeg({ status: "completed" }), agentLeg(ada.id, { status: "completed" })],
          }),
        ),
      ),
    );
    renderConsole({ fakeTimers: true });
    const first = await stream();
    await serverSays(() => {
      first.greet({ me: ada, agents: directory, calls: [makeCall()] });
    });
    expect(screen.getByLabelText("Caller")).toBeInTheDocument();

    await serverSays(() => {
      first.fail();
    });

    expect(first.close).toHaveBeenCalled();
    expect(liveStatus()).toHaveTextContent("Reconnecting…");
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    const second = await stream();
    expect(second).not.toBe(first);
    expect(second.ticket).not.toBe(first.ticket);

    // The call ended while the stream was down: the new stream doesn't mention it.
    await serverSays(() => {
      second.greet({ me: ada, agents: directory });
    });
    expect(liveStatus()).toHaveTextContent("Live");
    expect(await screen.findByText(/No active call/)).toBeInTheDocument();
    expect(screen.getByText(`Last call, ${CUSTOMER_NUMBER}: the customer hung up.`)).toBeInTheDocument();
  });

  it("closes the stream on logout and voids the token on the server", async () => {
    const session = signIn(ada);
    const logouts = requestsTo("/api/auth/logout");
    const { user } = renderWithProviders(<App />);
    const source = await stream();

    await user.click(screen.getByRole("button", { name: "Log out" }));

    await waitFor(() => expect(logouts).toHaveLength(1));
    expect(logouts[0]).toEqual({ method: "POST", authorization: `Bearer ${session.token}` });
    expect(source.close).toHaveBeenCalled();
    expect(source.listenerCount()).toBe(0);
    expect(screen.getByRole("button", { name: "Log in" })).toBeInTheDocument();
  });
});

describe("a call, from the offer to a completed transfer", () => {
  it("rings with the real caller, connects, transfers to Grace and leaves agent1 with no call", async () => {
    const transfers: Transfer[] = [];
    server.use(
      http.post("/api/calls/42/transfers", () => {
        const transfer = makeTransfer({ status: "dialing" });
        transfers.push(transfer);
        return HttpResponse.json(transfer, { status: 201 });
      }),
      http.post("/api/calls/42/transfers/7/complete", () =>
        HttpResponse.json(makeTransfer({ status: "completed", ended_at: "2026-11-25T12:02:00Z" })),
      ),
    );
    const { user, factory } = renderConsole();
    const source = await stream();
    await serverSays(() => {
      source.greet({ me: ada, agents: [ada, graceAvailable] });
    });
    await user.click(screen.getByRole("button", { name: "Start softphone" }));
    await screen.findByText("Ready");

    // The server offers the call; the softphone rings from the Twilio number.
    const phoneCall = new FakeVoiceCall(SUPPORT_NUMBER);
    await serverSays(() => {
      source.emit("call", { call: offeredCall(ada) });
      factory.latest().ring(phoneCall);
    });
    const banner = screen.getByRole("region", { name: "Incoming call" });
    expect(within(banner).getByText(`Incoming call from ${CUSTOMER_NUMBER}`)).toBeInTheDocument();
    expect(screen.queryByText(new RegExp(SUPPORT_NUMBER.replace("+", "\\+")))).not.toBeInTheDocument();

    await user.keyboard("a");
    expect(phoneCall.accept).toHaveBeenCalledOnce();
    expect(screen.queryByRole("region", { name: "Incoming call" })).not.toBeInTheDocument();

    const adasLeg = agentLeg(ada.id);
    const customer = customerLeg();
    await serverSays(() => {
      source.emit("call", { call: makeCall({ legs: [customer, adasLeg] }) });
    });
    expect(screen.getByLabelText("Caller")).toHaveTextContent(CUSTOMER_NUMBER);

    await user.click(screen.getByRole("button", { name: "Transfer to Grace Hopper" }));
    expect(await screen.findByText("Calling Grace Hopper…")).toBeInTheDocument();
    expect(transfers).toHaveLength(1);

    const gracesLeg = agentLeg(grace.id, { status: "ringing", joined_at: null });
    const during = (transfer: Partial<Transfer>, legs: Call["legs"]) =>
      makeCall({ legs, transfers: [makeTransfer(transfer)] });
    await serverSays(() => {
      source.emit("call", {
        call: during({ status: "ringing" }, [{ ...customer, on_hold: true }, adasLeg, gracesLeg]),
      });
    });
    expect(screen.getByText("Ringing Grace Hopper…")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Complete transfer" })).toBeDisabled();

    await serverSays(() => {
      source.emit("call", {
        call: during({ status: "consulting" }, [
          { ...customer, on_hold: true },
          adasLeg,
          { ...gracesLeg, status: "in_progress" },
        ]),
      });
    });
    expect(
      within(screen.getByRole("list", { name: "Participants" })).getByText("Consulting"),
    ).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Complete transfer" }));
    // The server hands the call to Grace and hangs up agent1's leg.
    await serverSays(() => {
      source.emit("call", {
        call: makeCall({
          owner_agent_id: grace.id,
          legs: [customer, { ...adasLeg, status: "completed" }, { ...gracesLeg, status: "in_progress" }],
          transfers: [makeTransfer({ status: "completed", ended_at: "2026-11-25T12:02:00Z" })],
        }),
      });
      phoneCall.emit("disconnect");
    });

    expect(screen.getByText(/No active call/)).toBeInTheDocument();
    expect(
      screen.getByText(`Last call, ${CUSTOMER_NUMBER}: transferred to Grace Hopper.`),
    ).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Transfer" })).not.toBeInTheDocument();
  });
});
