import { formatEndedBy, type NameOf } from "../../lib/format";
import { activeTransfer, isTransferActive } from "../../lib/live-calls";
import type { Call } from "../../types/api";

/** What the incoming banner says: the real caller, and who is handing the call over, if anyone. */
export function describeOffer(call: Call, agentId: string, nameOf: NameOf): string {
  const transfer = activeTransfer(call);
  if (transfer?.to_agent_id === agentId && transfer.from_agent_id !== null) {
    return `${nameOf(transfer.from_agent_id)} is transferring a call from ${call.from_number} to you`;
  }
  return `Incoming call from ${call.from_number}`;
}

/** What hanging up will do, when it does more than end the agent's part. */
export function hangUpConsequence(call: Call, agentId: string, nameOf: NameOf): string | null {
  const transfer = activeTransfer(call);
  if (transfer === undefined) return null;
  const target = transfer.to_agent_id !== null ? nameOf(transfer.to_agent_id) : (transfer.to_number ?? "");
  if (transfer.from_agent_id === agentId) {
    return transfer.status === "consulting"
      ? `Hanging up hands the call to ${target}.`
      : `Hanging up leaves the customer on hold until ${target} answers.`;
  }
  if (transfer.to_agent_id === agentId && transfer.from_agent_id !== null) {
    return `Hanging up cancels the transfer; the call stays with ${nameOf(transfer.from_agent_id)}.`;
  }
  return null;
}

/** How the agent's last call ended for them, in a sentence. */
export function describeLastCall(call: Call, agentId: string, nameOf: NameOf): string {
  const mine = call.transfers.findLast((transfer) => transfer.from_agent_id === agentId);
  if (mine !== undefined && (mine.status === "completed" || isTransferActive(mine))) {
    const target = mine.to_agent_id !== null ? nameOf(mine.to_agent_id) : (mine.to_number ?? "");
    return mine.status === "completed" ? `transferred to ${target}.` : `being transferred to ${target}.`;
  }
  if (call.status !== "completed") return "you left the call.";
  if (call.ended_by === `agent:${agentId}`) return "you ended the call.";
  const who = formatEndedBy(call.ended_by, nameOf);
  return who === null ? "the call ended." : `${who} hung up.`;
}
