import { useMutation, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { receiveCall } from "../../../lib/live-calls";
import type { Call, HoldRequest } from "../../../types/api";

export function holdCustomer(callId: number, hold: boolean): Promise<Call> {
  const body: HoldRequest = { hold };
  return apiClient.post<Call>(`/api/calls/${String(callId)}/hold`, body);
}

/** Hold (music) or resume the customer. */
export function useHoldCustomer(callId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (hold: boolean) => holdCustomer(callId, hold),
    onSuccess: (call) => {
      receiveCall(queryClient, call);
    },
  });
}
