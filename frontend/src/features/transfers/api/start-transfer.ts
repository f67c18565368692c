import { useMutation, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { receiveTransfer } from "../../../lib/live-calls";
import type { Transfer, TransferRequest } from "../../../types/api";

export function startTransfer(callId: number, request: TransferRequest): Promise<Transfer> {
  return apiClient.post<Transfer>(`/api/calls/${String(callId)}/transfers`, request);
}

/** Dials a colleague (or an allowed number) into the call; progress follows in `call` events. */
export function useStartTransfer(callId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: TransferRequest) => startTransfer(callId, request),
    onSuccess: (transfer) => {
      receiveTransfer(queryClient, transfer);
    },
  });
}
