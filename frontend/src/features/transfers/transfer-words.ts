import type { NameOf } from "../../lib/format";
import type { Transfer, TransferStatus } from "../../types/api";

export function targetOf(transfer: Transfer, nameOf: NameOf): string {
  if (transfer.to_agent_id !== null) return nameOf(transfer.to_agent_id);
  return transfer.to_number ?? "the target";
}

/** What is happening while a transfer is under way, for the agent who started it. */
export function progressWords(transfer: Transfer, nameOf: NameOf): string {
  const target = targetOf(transfer, nameOf);
  switch (transfer.status) {
    case "dialing":
      return `Calling ${target}…`;
    case "ringing":
      return `Ringing ${target}…`;
    case "consulting":
      return transfer.hold_customer
        ? `You're talking with ${target}. The customer is on hold.`
        : `Three-way call: you, ${target} and the customer.`;
    default:
      return outcomeWords(transfer, nameOf).title;
  }
}

export type OutcomeTone = "success" | "warning" | "error" | "neutral";

const TONE: Record<TransferStatus, OutcomeTone> = {
  dialing: "neutral",
  ringing: "neutral",
  consulting: "neutral",
  completed: "success",
  canceled: "neutral",
  declined: "warning",
  no_answer: "warning",
  busy: "warning",
  failed: "error",
};

/** How a transfer ended, in words; `reason` is the server's own explanation, when it gave one. */
export function outcomeWords(transfer: Transfer, nameOf: NameOf): { title: string; tone: OutcomeTone } {
  const target = targetOf(transfer, nameOf);
  const tone = TONE[transfer.status];
  switch (transfer.status) {
    case "completed":
      return { title: `Transferred: the call is now with ${target}.`, tone };
    case "declined":
      return { title: `${target} declined the transfer.`, tone };
    case "no_answer":
      return { title: `${target} didn't answer.`, tone };
    case "busy":
      return { title: `${target} was busy.`, tone };
    case "failed":
      return { title: `Couldn't reach ${target}.`, tone };
    case "canceled":
      return {
        title: `The transfer to ${target} was canceled${transfer.reason === null ? "" : `: ${transfer.reason}`}.`,
        tone,
      };
    default:
      return { title: `Transferring to ${target}.`, tone };
  }
}
