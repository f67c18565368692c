import type { NameOf } from "../../lib/format";
import type { Call, CallStatus, Transfer, TransferStatus } from "../../types/api";

export const CALL_STATUS_LABEL: Record<CallStatus, string> = {
  queued: "Waiting",
  ringing: "Ringing an agent",
  in_progress: "In progress",
  completed: "Ended",
};

export const TRANSFER_STATUS_LABEL: Record<TransferStatus, string> = {
  dialing: "dialing",
  ringing: "ringing",
  consulting: "consulting",
  completed: "completed",
  canceled: "canceled",
  declined: "declined",
  no_answer: "no answer",
  busy: "busy",
  failed: "failed",
};

export function transferTarget(transfer: Transfer, nameOf: NameOf): string {
  if (transfer.to_agent_id !== null) return nameOf(transfer.to_agent_id);
  return transfer.to_number ?? "?";
}

/** "to Grace Hopper: completed" */
export function transferSummary(transfer: Transfer, nameOf: NameOf): string {
  return `to ${transferTarget(transfer, nameOf)}: ${TRANSFER_STATUS_LABEL[transfer.status]}`;
}

export function handledBy(call: Call, nameOf: NameOf): string {
  return call.handled_by.length === 0 ? "Nobody" : call.handled_by.map(nameOf).join(", ");
}
