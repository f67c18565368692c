import type { NameOf } from "../../lib/format";
import { activeTransfer, isLegLive } from "../../lib/live-calls";
import type { Call, Leg, LegRole } from "../../types/api";

export type ParticipantState = "connected" | "on_hold" | "ringing" | "consulting" | "connecting";

export interface Participant {
  legId: number;
  role: LegRole;
  /** The customer's number, an agent's name or an outside number. */
  who: string;
  you: boolean;
  state: ParticipantState;
  muted: boolean;
}

export const PARTICIPANT_STATE: Record<ParticipantState, string> = {
  connected: "Connected",
  on_hold: "On hold",
  ringing: "Ringing",
  consulting: "Consulting",
  connecting: "Connecting",
};

function stateOf(call: Call, leg: Leg): ParticipantState {
  if (leg.role === "customer") {
    if (leg.on_hold) return "on_hold";
    return leg.status === "in_progress" ? "connected" : "connecting";
  }
  if (leg.status !== "in_progress") return "ringing";
  const transfer = activeTransfer(call);
  const consulted =
    transfer?.status === "consulting" &&
    (leg.role === "agent" ? transfer.to_agent_id === leg.agent_id : transfer.to_number === leg.number);
  return consulted ? "consulting" : "connected";
}

/** Who is on the call now, from its legs: the customer first, then agents and outside numbers. */
export function participantsOf(call: Call, agentId: string, nameOf: NameOf): Participant[] {
  return call.legs
    .filter(isLegLive)
    .sort((a, b) => Number(b.role === "customer") - Number(a.role === "customer") || a.id - b.id)
    .map((leg) => ({
      legId: leg.id,
      role: leg.role,
      who:
        leg.role === "customer"
          ? call.from_number
          : leg.role === "agent" && leg.agent_id !== null
            ? nameOf(leg.agent_id)
            : (leg.number ?? "An outside number"),
      you: leg.role === "agent" && leg.agent_id === agentId,
      state: stateOf(call, leg),
      muted: leg.muted,
    }));
}
