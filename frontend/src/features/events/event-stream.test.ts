import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { FakeEventSource } from "../../testing/fake-event-source";
import { ada, directory, makeCall } from "../../testing/fixtures";
import type { Ticket } from "../../types/api";
import { EventStream, retryDelayMs, SILENCE_MS, type StreamStatus } from "./event-stream";
import type { LiveEvent } from "./live-event";

function setUp({ failTickets = 0 } = {}) {
  let issued = 0;
  let failures = failTickets;
  const getTicket = vi.fn((): Promise<Ticket> => {
    if (failures > 0) {
      failures -= 1;
      return Promise.reject(new Error("network down"));
    }
    issued += 1;
    return Promise.resolve({ ticket: `ticket-${String(issued)}`, expires_in: 60 });
  });
  const events: LiveEvent[] = [];
  const statuses: StreamStatus[] = [];
  const stream = new EventStream({
    getTicket,
    url: (ticket) => `/api/events?ticket=${ticket}`,
    openEventSource: (url) => new FakeEventSource(url),
    onEvent: (event) => events.push(event),
  });
  stream.subscribe(() => statuses.push(stream.getStatus()));
  return { stream, getTicket, events, statuses };
}

/** Lets the ticket's promise settle and the connection open. */
async function settle() {
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("retryDelayMs", () => {
  it("waits 1 s, then twice as long after each failure, at most 15 s", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
});

describe("EventStream", () => {
  it("opens the stream with a ticket and goes live when the server says hello", async () => {
    const { stream, getTicket, events, statuses } = setUp();

    stream.start();
    expect(stream.getStatus()).toBe("connecting");
    await settle();

    expect(getTicket).toHaveBeenCalledOnce();
    const source = FakeEventSource.latest();
    expect(source.ticket).toBe("ticket-1");
    expect(stream.getStatus()).toBe("connecting");

    source.greet({ me: ada, agents: directory, calls: [makeCall()] });

    expect(stream.getStatus()).toBe("live");
    expect(statuses).toEqual(["connecting", "live"]);
    expect(events.map((event) => event.type)).toEqual(["hello", "directory", "queue", "call"]);
    expect(events[0]).toEqual({ type: "hello", me: ada });
    expect(events[3]).toMatchObject({ type: "call", call: { id: 42 } });
  });

  it("ignores events whose data isn't what their name promises", async () => {
    const { stream, events } = setUp();
    stream.start();
    await settle();
    const source = FakeEventSource.latest();

    source.emit("call", "not json");
    source.emit("directory", { agents: "nobody" });
    source.emit("agents", { agents: null });
    source.emit("queue", { calls: [] });
    source.emit("agents", { agents: [] });

    expect(events).toEqual([
      { type: "queue", calls: [] },
      { type: "agents", agents: [] },
    ]);
  });

  it("on an error, closes the connection and opens a new one with a new ticket", async () => {
    const { stream, getTicket, statuses } = setUp();
    stream.start();
    await settle();
    const first = FakeEventSource.latest();
    first.greet({ me: ada, agents: directory });

    first.fail();

    expect(first.close).toHaveBeenCalledOnce();
    expect(first.listenerCount()).toBe(0);
    expect(stream.getStatus()).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.instances).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1);

    expect(getTicket).toHaveBeenCalledTimes(2);
    const second = FakeEventSource.latest();
    expect(second).not.toBe(first);
    expect(second.ticket).toBe("ticket-2");
    second.greet({ me: ada, agents: directory });
    expect(statuses).toEqual(["connecting", "live", "reconnecting", "live"]);
  });

  it("backs off 1 s, 2 s, 4 s … up to 15 s while connections keep failing, and starts over once live", async () => {
    const { stream } = setUp();
    stream.start();
    await settle();

    const gaps: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const failed = FakeEventSource.latest();
      failed.fail({ closed: true });
      let waited = 0;
      while (FakeEventSource.latest() === failed) {
        await vi.advanceTimersByTimeAsync(500);
        waited += 500;
      }
      gaps.push(waited);
    }
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);

    FakeEventSource.latest().greet({ me: ada, agents: directory });
    FakeEventSource.latest().fail();
    const before = FakeEventSource.instances.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances).toHaveLength(before + 1);
  });

  it("retries when the ticket can't be had", async () => {
    const { stream, getTicket } = setUp({ failTickets: 2 });

    stream.start();
    await settle();
    expect(stream.getStatus()).toBe("reconnecting");
    expect(FakeEventSource.instances).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1000); // second ticket request fails too
    await vi.advanceTimersByTimeAsync(2000);

    expect(getTicket).toHaveBeenCalledTimes(3);
    expect(FakeEventSource.latest().ticket).toBe("ticket-1");
  });

  it("treats a long silence as a dead connection", async () => {
    const { stream } = setUp();
    stream.start();
    await settle();
    const first = FakeEventSource.latest();
    first.greet({ me: ada, agents: directory });

    await vi.advanceTimersByTimeAsync(SILENCE_MS - 1000);
    first.emit("directory", { agents: directory }); // the server's regular directory keeps it alive
    await vi.advanceTimersByTimeAsync(SILENCE_MS - 1000);
    expect(first.close).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1000);
    expect(first.close).toHaveBeenCalledOnce();
    expect(stream.getStatus()).toBe("reconnecting");
  });

  it("stops: closes the connection and never reconnects", async () => {
    const { stream, getTicket } = setUp();
    stream.start();
    await settle();
    const source = FakeEventSource.latest();
    source.greet({ me: ada, agents: directory });

    stream.stop();

    expect(source.close).toHaveBeenCalledOnce();
    expect(source.listenerCount()).toBe(0);
    expect(stream.getStatus()).toBe("off");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(getTicket).toHaveBeenCalledOnce();
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it("doesn't open a stream with a ticket that arrives after it stopped", async () => {
    const { stream } = setUp();

    stream.start();
    stream.stop();
    await settle();

    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it("cancels a pending reconnection when stopped", async () => {
    const { stream, getTicket } = setUp();
    stream.start();
    await settle();
    FakeEventSource.latest().fail();

    stream.stop();
    await vi.advanceTimersByTimeAsync(20_000);

    expect(getTicket).toHaveBeenCalledOnce();
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
