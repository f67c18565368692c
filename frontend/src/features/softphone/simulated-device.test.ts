import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SimulatedVoiceDevice, SseParser } from "./simulated-device";
import type { DeviceState, VoiceCall } from "./voice-device";

interface Post {
  path: string;
  authorization: string | null;
  body: unknown;
}

/** One open `GET /simulator/devices/stream`: the test writes its events. */
class OpenStream {
  readonly authorization: string | null;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly response: Response;
  closed = false;

  constructor(authorization: string | null, signal: AbortSignal | undefined) {
    this.authorization = authorization;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
    });
    signal?.addEventListener("abort", () => {
      this.closed = true;
      this.#controller.error(new DOMException("The stream was aborted.", "AbortError"));
    });
    this.response = new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  }

  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  write(text: string): void {
    this.#controller.enqueue(new TextEncoder().encode(text));
  }

  /** A network failure mid-stream. */
  fail(): void {
    this.#controller.error(new TypeError("network error"));
  }

  end(): void {
    this.#controller.close();
  }
}

/** The simulator's device API as `fetch` sees it. */
class FakeSimulator {
  readonly streams: OpenStream[] = [];
  readonly posts: Post[] = [];
  /** The next stream requests answer this instead of opening a stream. */
  streamAnswers: (Response | Error)[] = [];
  postAnswer: (path: string) => Response = () => Response.json({});

  readonly fetch = vi.fn((input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (url.endsWith("/simulator/devices/stream")) {
      const answer = this.streamAnswers.shift();
      if (answer instanceof Error) return Promise.reject(answer);
      if (answer !== undefined) return Promise.resolve(answer);
      const stream = new OpenStream(headers.get("Authorization"), init?.signal ?? undefined);
      this.streams.push(stream);
      return Promise.resolve(stream.response);
    }
    this.posts.push({
      path: url,
      authorization: headers.get("Authorization"),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    });
    return Promise.resolve(this.postAnswer(url));
  });

  get stream(): OpenStream {
    return this.streams.at(-1)!;
  }
}

let simulator: FakeSimulator;

beforeEach(() => {
  simulator = new FakeSimulator();
  vi.stubGlobal("fetch", simulator.fetch);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function newDevice(token = "voice-1") {
  const device = new SimulatedVoiceDevice(token, { baseUrl: "", reconnectDelaysMs: [5, 10] });
  const states: DeviceState[] = [];
  device.on("state", (state) => states.push(state));
  return { device, states };
}

async function registered(token = "voice-1") {
  const { device, states } = newDevice(token);
  const registering = device.register();
  await vi.waitFor(() => {
    expect(simulator.streams).toHaveLength(1);
  });
  simulator.stream.send("registered", { device_id: "DV1", identity: "agent1" });
  await registering;
  return { device, states };
}

async function ring(device: SimulatedVoiceDevice, sid = "CA1", from = "+15551230000"): Promise<VoiceCall> {
  const incoming = new Promise<VoiceCall>((resolve) => {
    const stop = device.on("incoming", (call) => {
      stop();
      resolve(call);
    });
  });
  simulator.stream.send("incoming", { call_sid: sid, from, to: "client:agent1", params: {} });
  return incoming;
}

function nextEvent(call: VoiceCall, event: "accept" | "cancel" | "disconnect" | "reject"): Promise<void> {
  return new Promise((resolve) => {
    const stop = call.on(event, () => {
      stop();
      resolve();
    });
  });
}

describe("SimulatedVoiceDevice", () => {
  it("registers by opening the stream with the Voice token", async () => {
    const { device, states } = await registered();

    expect(simulator.stream.authorization).toBe("Bearer voice-1");
    expect(device.state).toBe("registered");
    expect(states).toEqual(["registering", "registered"]);
    device.destroy();
  });

  it("rejects registering when the simulator refuses the token, with Twilio's code", async () => {
    simulator.streamAnswers.push(
      Response.json({ error: "invalid_voice_token", detail: "Token expired" }, { status: 401 }),
    );
    const { device } = newDevice();

    await expect(device.register()).rejects.toMatchObject({ code: 20104, message: "Token expired" });
    expect(device.state).toBe("unregistered");
  });

  it("offers an incoming call and accepts it with the device's id", async () => {
    const { device } = await registered();
    const call = await ring(device);

    expect(call.from).toBe("+15551230000");
    expect(call.status()).toBe("pending");

    const accepted = nextEvent(call, "accept");
    call.accept();
    expect(call.status()).toBe("connecting");
    simulator.stream.send("accepted", { call_sid: "CA1" });
    await accepted;

    expect(call.status()).toBe("open");
    expect(simulator.posts).toEqual([
      {
        path: "/simulator/devices/calls/CA1/accept",
        authorization: "Bearer voice-1",
        body: { device_id: "DV1" },
      },
    ]);
    device.destroy();
  });

  it("rejects a ringing call", async () => {
    const { device } = await registered();
    const call = await ring(device);
    const rejected = vi.fn();
    call.on("reject", rejected);

    call.reject();

    expect(rejected).toHaveBeenCalledOnce();
    expect(call.status()).toBe("closed");
    expect(simulator.posts).toEqual([
      {
        path: "/simulator/devices/calls/CA1/reject",
        authorization: "Bearer voice-1",
        body: { device_id: "DV1" },
      },
    ]);
    device.destroy();
  });

  it("mutes and hangs up an answered call", async () => {
    const { device } = await registered();
    const call = await ring(device);
    call.accept();
    simulator.stream.send("accepted", { call_sid: "CA1" });
    await vi.waitFor(() => {
      expect(call.status()).toBe("open");
    });
    const muted = vi.fn();
    const disconnected = vi.fn();
    call.on("mute", muted);
    call.on("disconnect", disconnected);

    call.mute(true);
    simulator.stream.send("muted", { call_sid: "CA1", muted: true });
    call.disconnect();

    expect(muted.mock.calls).toEqual([[true]]);
    expect(call.isMuted()).toBe(true);
    expect(disconnected).toHaveBeenCalledOnce();
    expect(simulator.posts.slice(1)).toEqual([
      { path: "/simulator/devices/calls/CA1/mute", authorization: "Bearer voice-1", body: { muted: true } },
      { path: "/simulator/devices/calls/CA1/hangup", authorization: "Bearer voice-1", body: undefined },
    ]);
    // The stream's own `disconnected` for the same call changes nothing.
    simulator.stream.send("disconnected", { call_sid: "CA1", status: "completed" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(disconnected).toHaveBeenCalledOnce();
    device.destroy();
  });

  it("reports a call canceled while it rings, and one the other side hung up", async () => {
    const { device } = await registered();
    const first = await ring(device, "CA1");
    const canceled = nextEvent(first, "cancel");
    simulator.stream.send("canceled", { call_sid: "CA1", reason: "no-answer" });
    await canceled;
    expect(first.status()).toBe("closed");

    const second = await ring(device, "CA2", "client:agent2");
    second.accept();
    simulator.stream.send("accepted", { call_sid: "CA2" });
    const ended = nextEvent(second, "disconnect");
    simulator.stream.send("disconnected", { call_sid: "CA2", status: "completed" });
    await ended;
    expect(second.status()).toBe("closed");
    device.destroy();
  });

  it("announces a call once even when the simulator repeats it", async () => {
    const { device } = await registered();
    const incoming = vi.fn();
    device.on("incoming", incoming);

    simulator.stream.send("incoming", { call_sid: "CA1", from: "+1555", to: "client:agent1", params: {} });
    simulator.stream.write(": heartbeat\n\n");
    simulator.stream.send("incoming", { call_sid: "CA1", from: "+1555", to: "client:agent1", params: {} });
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(incoming).toHaveBeenCalledOnce();
    device.destroy();
  });

  it("reports a refused action on the call as an error", async () => {
    simulator.postAnswer = () =>
      Response.json({ error: "not_ringing", detail: "Call CA1 is not ringing" }, { status: 409 });
    const { device } = await registered();
    const call = await ring(device);
    const errors = vi.fn();
    call.on("error", errors);
    const canceled = nextEvent(call, "cancel");

    call.accept();
    await canceled;

    expect(errors).toHaveBeenCalledWith({ code: null, message: "Call CA1 is not ringing" });
    expect(call.status()).toBe("closed");
    device.destroy();
  });

  it("gives a fresh token to the registered device", async () => {
    const { device } = await registered();

    device.updateToken("voice-2");

    expect(simulator.posts).toEqual([
      { path: "/simulator/devices/DV1/token", authorization: "Bearer voice-2", body: undefined },
    ]);
    expect(simulator.streams).toHaveLength(1);
    device.destroy();
  });

  it("reconnects with backoff after a network error, and registers again", async () => {
    const { device, states } = await registered();
    const call = await ring(device);
    const canceled = nextEvent(call, "cancel");
    simulator.streamAnswers.push(new TypeError("Failed to fetch"));

    simulator.stream.fail();
    await canceled;
    await vi.waitFor(() => {
      expect(simulator.streams).toHaveLength(2);
    });
    simulator.stream.send("registered", { device_id: "DV2", identity: "agent1" });
    await vi.waitFor(() => {
      expect(device.state).toBe("registered");
    });

    expect(simulator.fetch).toHaveBeenCalledTimes(3);
    expect(states).toEqual(["registering", "registered", "registering", "registered"]);
    device.updateToken("voice-2");
    expect(simulator.posts.at(-1)?.path).toBe("/simulator/devices/DV2/token");
    device.destroy();
  });

  it("waits for a fresh token after the simulator unregisters an expired one", async () => {
    const { device } = await registered();
    const errors = vi.fn();
    device.on("error", errors);

    simulator.stream.send("unregistered", { reason: "token_expired" });
    simulator.stream.end();
    await vi.waitFor(() => {
      expect(device.state).toBe("unregistered");
    });
    expect(errors).toHaveBeenCalledWith(expect.objectContaining({ code: 20104 }));

    device.updateToken("voice-2");
    await vi.waitFor(() => {
      expect(simulator.streams).toHaveLength(2);
    });
    expect(simulator.stream.authorization).toBe("Bearer voice-2");
    device.destroy();
  });

  it("closes the stream and drops every listener when destroyed", async () => {
    const { device, states } = await registered();
    const call = await ring(device);
    call.on("cancel", vi.fn());
    device.on("incoming", vi.fn());
    const stream = simulator.stream;

    device.destroy();

    expect(stream.closed).toBe(true);
    expect(device.state).toBe("destroyed");
    expect(states.at(-1)).toBe("destroyed");
    expect(device.listenerCount()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(simulator.streams).toHaveLength(1);
  });
});

describe("SseParser", () => {
  it("joins chunks, skips comments and reads multi-line data", () => {
    const parser = new SseParser();

    expect(parser.push("event: inc")).toEqual([]);
    expect(parser.push('oming\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: heartbeat\n\nevent: x\n')).toEqual([
      { event: "incoming", data: '{"a":\n1}' },
    ]);
    expect(parser.push("data: 2\n\n")).toEqual([{ event: "x", data: "2" }]);
  });
});
