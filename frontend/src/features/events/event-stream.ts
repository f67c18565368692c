import type { Ticket } from "../../types/api";
import { LIVE_EVENT_TYPES, parseLiveEvent, type LiveEvent, type LiveEventType } from "./live-event";

/** `off` until started and after stopping; `live` once the server has said hello. */
export type StreamStatus = "off" | "connecting" | "live" | "reconnecting";

/** The part of the browser's EventSource the stream uses; tests pass a fake. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

export interface EventStreamOptions {
  getTicket: () => Promise<Ticket>;
  /** Where the stream is opened with a ticket. */
  url: (ticket: string) => string;
  openEventSource: (url: string) => EventSourceLike;
  onEvent: (event: LiveEvent) => void;
}

export const RETRY_MIN_MS = 1_000;
export const RETRY_MAX_MS = 15_000;
/** The server sends the directory at least every 15 s: this long without a word, the line is dead. */
export const SILENCE_MS = 45_000;

/** The pause before the attempt that follows `failures` failed ones: 1 s, 2 s, 4 s, … at most 15 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** failures);
}

/**
 * The console's connection to `GET /api/events`, kept open until stopped. Each connection needs
 * a fresh ticket, and a ticket lasts a minute, so EventSource's own reconnection (which reuses
 * the URL) is never let run: on any error the connection is closed and, after a pause that grows
 * with each failure, opened again with a new ticket.
 */
export class EventStream {
  readonly #options: EventStreamOptions;
  readonly #listeners = new Set<() => void>();
  #status: StreamStatus = "off";
  #source: EventSourceLike | null = null;
  #detach: (() => void) | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #silenceTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** Bumped whenever a connection is given up, so a ticket requested for it is not used. */
  #generation = 0;

  constructor(options: EventStreamOptions) {
    this.#options = options;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getStatus = (): StreamStatus => this.#status;

  start(): void {
    if (this.#status !== "off") return;
    this.#setStatus("connecting");
    void this.#connect();
  }

  stop(): void {
    this.#generation++;
    clearTimeout(this.#retryTimer);
    this.#close();
    this.#failures = 0;
    this.#setStatus("off");
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    let ticket: Ticket;
    try {
      ticket = await this.#options.getTicket();
    } catch {
      // A refused session (401) has already logged the agent out, which stops the stream.
      if (generation === this.#generation) this.#retry();
      return;
    }
    if (generation !== this.#generation) return;

    const source = this.#options.openEventSource(this.#options.url(ticket.ticket));
    const onMessage = (event: Event) => {
      this.#receive(event);
    };
    const onError = () => {
      this.#retry();
    };
    source.addEventListener("error", onError);
    LIVE_EVENT_TYPES.forEach((type) => {
      source.addEventListener(type, onMessage);
    });
    this.#source = source;
    this.#detach = () => {
      source.removeEventListener("error", onError);
      LIVE_EVENT_TYPES.forEach((type) => {
        source.removeEventListener(type, onMessage);
      });
    };
    this.#watchSilence();
  }

  #receive(event: Event): void {
    this.#watchSilence();
    const data: unknown = (event as MessageEvent).data;
    const parsed = typeof data === "string" ? parseLiveEvent(event.type as LiveEventType, data) : null;
    if (parsed === null) return;
    if (parsed.type === "hello") {
      // The server accepted the ticket and sent its snapshot: the next failure starts over at 1 s.
      this.#failures = 0;
      this.#setStatus("live");
    }
    this.#options.onEvent(parsed);
  }

  #retry(): void {
    this.#generation++;
    this.#close();
    this.#setStatus("reconnecting");
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), retryDelayMs(this.#failures));
    this.#failures++;
  }

  #watchSilence(): void {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => {
      this.#retry();
    }, SILENCE_MS);
  }

  /** Stops listening before closing, so nothing from the old connection arrives afterwards. */
  #close(): void {
    clearTimeout(this.#silenceTimer);
    this.#detach?.();
    this.#detach = null;
    this.#source?.close();
    this.#source = null;
  }

  #setStatus(status: StreamStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#listeners.forEach((listener) => listener());
  }
}
