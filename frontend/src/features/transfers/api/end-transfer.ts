import { useMutation, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { receiveTransfer } from "../../../lib/live-calls";
import type { Transfer } from "../../../types/api";

export type TransferEnding = "cancel" | "complete";

/**
 * `cancel`: hang up the target (ringing or consulting) and resume the customer.
 * `complete`: resume the customer, hand them to the target (who must have joined), and leave.
 */
export function endTransfer(transfer: Transfer, ending: TransferEnding): Promise<Transfer> {
  return apiClient.post<Transfer>(
    `/api/calls/${String(transfer.call_id)}/transfers/${String(transfer.id)}/${ending}`,
  );
}

export function useEndTransfer(transfer: Transfer) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ending: TransferEnding) => endTransfer(transfer, ending),
    onSuccess: (updated) => {
      receiveTransfer(queryClient, updated);
    },
  });
}
