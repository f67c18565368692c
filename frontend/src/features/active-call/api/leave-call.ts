import { useMutation, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { receiveCall } from "../../../lib/live-calls";
import type { Call } from "../../../types/api";

export function leaveCall(callId: number): Promise<Call> {
  return apiClient.post<Call>(`/api/calls/${String(callId)}/leave`);
}

/**
 * Hang up. The server decides what that means: the only agent ends the call; the agent transferring
 * it hands it over (or leaves the customer holding for a target still ringing); a consulted
 * target's leaving cancels the transfer.
 */
export function useLeaveCall(callId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => leaveCall(callId),
    onSuccess: (call) => {
      receiveCall(queryClient, call);
    },
  });
}
