import { vi } from "vitest";

import type { Agent, Call } from "../types/api";

type Listener = (event: Event) => void;

/**
 * Stands in for the browser's EventSource (jsdom has none); installed as the global one for every
 * test. A test plays the server: `open()`, `emit(name, data)`, `fail()`.
 */
export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  /** The most recently opened stream. */
  static latest(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (source === undefined) throw new Error("no EventSource was opened");
    return source;
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  readonly url: string;
  readonly withCredentials = false;
  readyState = FakeEventSource.CONNECTING;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(url: string | URL) {
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }

  /** The ticket in the URL it was opened with. */
  get ticket(): string | null {
    return new URL(this.url, "http://localhost").searchParams.get("ticket");
  }

  readonly close = vi.fn(() => {
    this.readyState = FakeEventSource.CLOSED;
  });

  addEventListener(type: string, listener: Listener): void {
    const listeners = this.#listeners.get(type) ?? new Set();
    listeners.add(listener);
    this.#listeners.set(type, listeners);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  listenerCount(): number {
    let total = 0;
    for (const listeners of this.#listeners.values()) total += listeners.size;
    return total;
  }

  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.#dispatch(new Event("open"));
  }

  /** A named event whose `data` is `payload` as JSON (or as given, when a string). */
  emit(type: string, payload: unknown): void {
    const data = typeof payload === "string" ? payload : JSON.stringify(payload);
    this.#dispatch(new MessageEvent(type, { data }));
  }

  /** The connection drops (EventSource would retry on its own) or is refused (closed for good). */
  fail({ closed = false } = {}): void {
    this.readyState = closed ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.#dispatch(new Event("error"));
  }

  /** The server's opening: hello, directory, queue, then the agent's calls. */
  greet({
    me,
    agents,
    queue = [],
    calls = [],
  }: {
    me: Agent;
    agents: Agent[];
    queue?: Call[];
    calls?: Call[];
  }) {
    this.open();
    this.emit("hello", { me });
    this.emit("directory", { agents });
    this.emit("queue", { calls: queue });
    calls.forEach((call) => {
      this.emit("call", { call });
    });
  }

  #dispatch(event: Event): void {
    // A closed EventSource delivers nothing, as in the browser.
    if (this.readyState === FakeEventSource.CLOSED && event.type !== "error") return;
    this.#listeners.get(event.type)?.forEach((listener) => {
      listener(event);
    });
  }
}
