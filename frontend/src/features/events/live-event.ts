import type { AgentsEvent, CallEvent, DirectoryEvent, HelloEvent, QueueEvent } from "../../types/api";

/** What the server's event stream says, by event name. */
export type LiveEvent =
  | ({ type: "hello" } & HelloEvent)
  | ({ type: "directory" } & DirectoryEvent)
  | ({ type: "agents" } & AgentsEvent)
  | ({ type: "queue" } & QueueEvent)
  | ({ type: "call" } & CallEvent);

export type LiveEventType = LiveEvent["type"];

export const LIVE_EVENT_TYPES: readonly LiveEventType[] = ["hello", "directory", "agents", "queue", "call"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * An event's JSON `data`, checked just enough to route it (like the API client, the rest is
 * trusted to match the contract); null when it isn't what the event's name promises.
 */
export function parseLiveEvent(type: LiveEventType, data: string): LiveEvent | null {
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(payload)) return null;
  switch (type) {
    case "hello":
      return isObject(payload.me) ? { type, ...(payload as unknown as HelloEvent) } : null;
    case "directory":
      return Array.isArray(payload.agents) ? { type, ...(payload as unknown as DirectoryEvent) } : null;
    case "agents":
      return Array.isArray(payload.agents) ? { type, ...(payload as unknown as AgentsEvent) } : null;
    case "queue":
      return Array.isArray(payload.calls) ? { type, ...(payload as unknown as QueueEvent) } : null;
    case "call":
      return isObject(payload.call) ? { type, ...(payload as unknown as CallEvent) } : null;
  }
}
