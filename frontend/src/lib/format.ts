import type { Agent } from "../types/api";

/** `m:ss`, or `h:mm:ss` from an hour on, as call timers read. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h > 0 ? `${String(h)}:${String(m).padStart(2, "0")}:${s}` : `${String(m)}:${s}`;
}

/** Seconds from an ISO date-time to `now` (epoch ms). */
export function secondsSince(iso: string, now: number): number {
  return Math.max(0, (now - Date.parse(iso)) / 1000);
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso: string): string {
  return TIME.format(new Date(iso));
}

export function formatDateTime(iso: string): string {
  return DATE_TIME.format(new Date(iso));
}

export type NameOf = (agentId: string) => string;

/** Names agents from the directory; an agent it doesn't list keeps their id. */
export function namesFrom(agents: readonly Agent[]): NameOf {
  const names = new Map(agents.map((agent) => [agent.id, agent.name]));
  return (agentId) => names.get(agentId) ?? agentId;
}

/** The server's `ended_by`: `customer`, `agent:<id>` or `external:<number>`. */
export function formatEndedBy(endedBy: string | null, nameOf: NameOf): string | null {
  if (endedBy === null) return null;
  if (endedBy === "customer") return "the customer";
  if (endedBy.startsWith("agent:")) return nameOf(endedBy.slice("agent:".length));
  if (endedBy.startsWith("external:")) return endedBy.slice("external:".length);
  return endedBy;
}
