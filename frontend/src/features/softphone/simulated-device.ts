import { env } from "../../config/env";
import type {
  DeviceState,
  Unsubscribe,
  VoiceCall,
  VoiceCallEvents,
  VoiceCallStatus,
  VoiceDevice,
  VoiceDeviceEvents,
  VoiceError,
} from "./voice-device";

/**
 * The VoiceDevice of simulated voice mode: drives the backend's built-in Twilio simulator the way
 * the Voice SDK drives Twilio. `GET /simulator/devices/stream` (Server-Sent Events read with fetch,
 * so the Voice token goes in the Authorization header) registers the device while it is open and
 * carries its events; the call actions are plain POSTs.
 */

type Listener = (...args: never[]) => void;

/** A typed listener registry: `on` returns its own unsubscribe, `clear` drops them all. */
class Emitter<Events extends { [K in keyof Events]: Listener }> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();

  on<E extends keyof Events>(event: E, listener: Events[E]): Unsubscribe {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    // A copy: a listener may unsubscribe (or subscribe) while the event is delivered.
    [...(this.#listeners.get(event) ?? [])].forEach((listener) => {
      (listener as (...values: Parameters<Events[E]>) => void)(...args);
    });
  }

  count(): number {
    let total = 0;
    this.#listeners.forEach((set) => (total += set.size));
    return total;
  }

  clear(): void {
    this.#listeners.clear();
  }
}

export interface SimulatedDeviceOptions {
  /** Prefix of the simulator's routes: the console's API origin by default. */
  baseUrl?: string;
  /** Waits before reopening a lost stream, in order; the last one repeats. */
  reconnectDelaysMs?: readonly number[];
  /** No byte for this long (the simulator sends a heartbeat every 15 s) counts as a lost stream. */
  idleTimeoutMs?: number;
}

const DEFAULT_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000];
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

// Twilio's codes, so the softphone's problems read the same as with the real SDK.
const TOKEN_EXPIRED = 20104;
const TOKEN_INVALID = 20101;
const CONNECTION_LOST = 31005;

/** A failed simulator request, in its `{error, detail}` shape; `status` 0 when unreachable. */
export class SimulatorRequestError extends Error {
  override readonly name = "SimulatorRequestError";
  readonly status: number;
  readonly error: string;
  /** Twilio's error code for the same failure, when there is one (401: the token). */
  readonly code: number | null;

  constructor(status: number, error: string, detail: string) {
    super(detail);
    this.status = status;
    this.error = error;
    this.code = status === 401 ? (error === "invalid_voice_token" ? TOKEN_EXPIRED : TOKEN_INVALID) : null;
  }

  toVoiceError(): VoiceError {
    return { code: this.code, message: this.message };
  }
}

async function toRequestError(response: Response): Promise<SimulatorRequestError> {
  try {
    const body = (await response.json()) as { error?: unknown; detail?: unknown };
    return new SimulatorRequestError(
      response.status,
      typeof body.error === "string" ? body.error : "http_error",
      typeof body.detail === "string" ? body.detail : `The simulator answered ${String(response.status)}`,
    );
  } catch {
    return new SimulatorRequestError(
      response.status,
      "http_error",
      `The simulator answered ${String(response.status)}`,
    );
  }
}

interface SseMessage {
  event: string;
  data: string;
}

/** Splits a Server-Sent Events body into messages; comment lines (heartbeats) are dropped. */
export class SseParser {
  #buffer = "";

  push(chunk: string): SseMessage[] {
    this.#buffer += chunk.replace(/\r\n?/g, "\n");
    const messages: SseMessage[] = [];
    let end = this.#buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      end = this.#buffer.indexOf("\n\n");
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) messages.push({ event, data: data.join("\n") });
    }
    return messages;
  }
}

interface DeviceLink {
  readonly deviceId: () => string | null;
  request(path: string, json?: unknown): Promise<void>;
  forget(callSid: string): void;
}

class SimulatedVoiceCall implements VoiceCall {
  readonly from: string;
  readonly sid: string;
  readonly #link: DeviceLink;
  readonly #events = new Emitter<VoiceCallEvents>();
  #status: VoiceCallStatus = "pending";
  #muted = false;

  constructor(sid: string, from: string, link: DeviceLink) {
    this.sid = sid;
    this.from = from;
    this.#link = link;
  }

  status(): VoiceCallStatus {
    return this.#status;
  }

  isMuted(): boolean {
    return this.#muted;
  }

  accept(): void {
    if (this.#status !== "pending") return;
    this.#status = "connecting";
    this.#act("accept", { device_id: this.#link.deviceId() });
  }

  reject(): void {
    if (this.#status !== "pending") return;
    this.#act("reject", { device_id: this.#link.deviceId() });
    this.#end("reject");
  }

  /** Like the SDK: a call still ringing is rejected; an answered one is hung up. */
  disconnect(): void {
    if (this.#status === "closed") return;
    if (this.#status === "pending") {
      this.reject();
      return;
    }
    this.#act("hangup");
    this.#end("disconnect");
  }

  mute(muted: boolean): void {
    if (this.#status === "closed" || muted === this.#muted) return;
    this.#muted = muted;
    this.#events.emit("mute", muted);
    this.#act("mute", { muted });
  }

  on<E extends keyof VoiceCallEvents>(event: E, listener: VoiceCallEvents[E]): Unsubscribe {
    return this.#events.on(event, listener);
  }

  // --- what the device's stream says about this call ---

  accepted(): void {
    if (this.#status === "closed" || this.#status === "open") return;
    this.#status = "open";
    this.#events.emit("accept");
  }

  mutedRemotely(muted: boolean): void {
    if (this.#status === "closed" || muted === this.#muted) return;
    this.#muted = muted;
    this.#events.emit("mute", muted);
  }

  /** Stopped ringing before this device answered: the caller gave up, or someone else answered. */
  canceled(): void {
    if (this.#status === "closed") return;
    this.#end(this.#status === "pending" ? "cancel" : "disconnect");
  }

  disconnected(): void {
    if (this.#status === "closed") return;
    this.#end("disconnect");
  }

  listenerCount(): number {
    return this.#events.count();
  }

  #end(event: "cancel" | "disconnect" | "reject"): void {
    this.#status = "closed";
    this.#link.forget(this.sid);
    this.#events.emit(event);
  }

  #act(action: string, json?: unknown): void {
    const path = `/simulator/devices/calls/${encodeURIComponent(this.sid)}/${action}`;
    this.#link.request(path, json).then(
      () => {
        // The stream's `accepted` says the same; whichever comes first opens the call.
        if (action === "accept") this.accepted();
      },
      (error: unknown) => {
        const voiceError =
          error instanceof SimulatorRequestError
            ? error.toVoiceError()
            : { code: CONNECTION_LOST, message: "Can't reach the server." };
        if (action === "accept" && this.#status === "connecting") {
          // The answer was refused (someone else answered, the caller gave up): the call is gone for us.
          this.#events.emit("error", voiceError);
          this.#end("cancel");
          return;
        }
        this.#events.emit("error", voiceError);
      },
    );
  }
}

interface IncomingData {
  call_sid: string;
  from: string;
}

export class SimulatedVoiceDevice implements VoiceDevice {
  readonly #events = new Emitter<VoiceDeviceEvents>();
  readonly #calls = new Map<string, SimulatedVoiceCall>();
  readonly #baseUrl: string;
  readonly #delays: readonly number[];
  readonly #idleTimeoutMs: number;
  readonly #link: DeviceLink;
  #token: string;
  #state: DeviceState = "unregistered";
  #deviceId: string | null = null;
  #stream: AbortController | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(token: string, options: SimulatedDeviceOptions = {}) {
    this.#token = token;
    this.#baseUrl = options.baseUrl ?? env.apiBaseUrl;
    this.#delays = options.reconnectDelaysMs ?? DEFAULT_DELAYS_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#link = {
      deviceId: () => this.#deviceId,
      request: (path, json) => this.#post(path, json).then(() => undefined),
      forget: (sid) => this.#calls.delete(sid),
    };
  }

  get state(): DeviceState {
    return this.#state;
  }

  /** Resolves once the simulator says `registered`; network failures are retried meanwhile. */
  register(): Promise<void> {
    if (this.#state === "destroyed") return Promise.reject(new Error("The device was destroyed."));
    if (this.#state === "registered") return Promise.resolve();
    const registered = new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
    if (this.#stream === null && this.#reconnectTimer === undefined) this.#open();
    return registered;
  }

  unregister(): Promise<void> {
    if (this.#state === "destroyed") return Promise.resolve();
    this.#close();
    this.#settleWaiters(new Error("The device was unregistered."));
    this.#setState("unregistered");
    return Promise.resolve();
  }

  /** Closing the stream makes the simulator unregister the device and hang up its answered call. */
  destroy(): void {
    if (this.#state === "destroyed") return;
    this.#close();
    this.#settleWaiters(new Error("The device was destroyed."));
    this.#setState("destroyed");
    this.#events.clear();
  }

  /** Given to the registered device (`POST /simulator/devices/{id}/token`), or used to reconnect. */
  updateToken(token: string): void {
    this.#token = token;
    const deviceId = this.#deviceId;
    if (deviceId === null || this.#state !== "registered") {
      // Not registered (the token ran out): register again with the fresh token.
      if (this.#state === "unregistered" && this.#stream === null) this.#scheduleOpen(0);
      return;
    }
    this.#post(`/simulator/devices/${encodeURIComponent(deviceId)}/token`).catch((error: unknown) => {
      if (this.#deviceId !== deviceId || this.#state === "destroyed") return;
      if (error instanceof SimulatorRequestError && error.status === 404) {
        // The device is gone (its stream closed meanwhile): a new stream registers a new one.
        this.#restart();
        return;
      }
      this.#events.emit(
        "error",
        error instanceof SimulatorRequestError
          ? error.toVoiceError()
          : { code: CONNECTION_LOST, message: "Can't reach the server." },
      );
    });
  }

  on<E extends keyof VoiceDeviceEvents>(event: E, listener: VoiceDeviceEvents[E]): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Listeners still attached to the device and its calls (for tests of cleanup). */
  listenerCount(): number {
    let total = this.#events.count();
    this.#calls.forEach((call) => (total += call.listenerCount()));
    return total;
  }

  // --- the stream ---

  #open(): void {
    this.#reconnectTimer = undefined;
    const controller = new AbortController();
    this.#stream = controller;
    this.#setState("registering");
    void this.#read(controller);
  }

  async #read(controller: AbortController): Promise<void> {
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watchIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        controller.abort();
      }, this.#idleTimeoutMs);
    };
    let unregistered = false;
    try {
      watchIdle();
      const response = await fetch(`${this.#baseUrl}/simulator/devices/stream`, {
        headers: { Accept: "text/event-stream", Authorization: `Bearer ${this.#token}` },
        signal: controller.signal,
        cache: "no-store",
      });
      if (!response.ok) throw await toRequestError(response);
      if (response.body === null) throw new Error("The simulator's stream has no body.");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          watchIdle();
          for (const message of parser.push(value)) {
            if (controller.signal.aborted) return;
            if (this.#handle(message)) unregistered = true;
          }
        }
      } finally {
        reader.releaseLock();
      }
      if (controller.signal.aborted) return;
      throw new Error("The simulator closed the stream.");
    } catch (error) {
      // Aborted on purpose (unregister, destroy, a reconnect) unless the idle watchdog fired.
      if (this.#stream !== controller) return;
      this.#stream = null;
      this.#lost(error, unregistered);
    } finally {
      clearTimeout(idle);
    }
  }

  /** Returns true for `unregistered`: the stream ends on purpose after it. */
  #handle({ event, data: raw }: SseMessage): boolean {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return false;
    }
    const call = typeof data.call_sid === "string" ? this.#calls.get(data.call_sid) : undefined;
    switch (event) {
      case "registered":
        this.#deviceId = typeof data.device_id === "string" ? data.device_id : null;
        this.#failures = 0;
        this.#setState("registered");
        this.#settleWaiters(null);
        return false;
      case "incoming": {
        const { call_sid: sid, from } = data as unknown as IncomingData;
        // Also announced again on registering for calls already ringing.
        if (typeof sid !== "string" || this.#calls.has(sid)) return false;
        const incoming = new SimulatedVoiceCall(
          sid,
          typeof from === "string" ? from : "an unknown caller",
          this.#link,
        );
        this.#calls.set(sid, incoming);
        this.#events.emit("incoming", incoming);
        return false;
      }
      case "canceled":
        call?.canceled();
        return false;
      case "accepted":
        call?.accepted();
        return false;
      case "disconnected":
        call?.disconnected();
        return false;
      case "muted":
        if (typeof data.muted === "boolean") call?.mutedRemotely(data.muted);
        return false;
      case "unregistered":
        return true;
      default:
        return false;
    }
  }

  /** The stream ended without our asking: its calls are gone on the simulator's side. */
  #lost(error: unknown, unregistered: boolean): void {
    this.#deviceId = null;
    [...this.#calls.values()].forEach((call) => {
      call.canceled();
    });
    this.#calls.clear();
    if (unregistered) {
      // The token ran out: wait for updateToken, as the SDK does.
      this.#setState("unregistered");
      this.#events.emit("error", { code: TOKEN_EXPIRED, message: "The softphone's access token expired." });
      this.#settleWaiters(new SimulatorRequestError(401, "invalid_voice_token", "The Voice token expired."));
      return;
    }
    if (error instanceof SimulatorRequestError && error.status >= 400 && error.status < 500) {
      // Refused (a bad or expired token): retrying with the same token can't help.
      this.#setState("unregistered");
      if (this.#waiters.length > 0) this.#settleWaiters(error);
      else this.#events.emit("error", error.toVoiceError());
      return;
    }
    this.#setState("registering");
    const delay = this.#delays[Math.min(this.#failures, this.#delays.length - 1)] ?? 1_000;
    this.#failures += 1;
    this.#scheduleOpen(delay);
  }

  #scheduleOpen(delay: number): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#open();
    }, delay);
  }

  #restart(): void {
    this.#close();
    this.#open();
  }

  #close(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const stream = this.#stream;
    this.#stream = null;
    stream?.abort();
    this.#deviceId = null;
    [...this.#calls.values()].forEach((call) => {
      call.canceled();
    });
    this.#calls.clear();
  }

  #setState(state: DeviceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.emit("state", state);
  }

  #settleWaiters(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiters.forEach(({ resolve, reject }) => {
      if (error === null) resolve();
      else reject(error);
    });
  }

  async #post(path: string, json?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: `Bearer ${this.#token}`,
    };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method: "POST",
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
      });
    } catch {
      throw new SimulatorRequestError(0, "network_error", "Can't reach the server.");
    }
    if (!response.ok) throw await toRequestError(response);
    return response;
  }
}
