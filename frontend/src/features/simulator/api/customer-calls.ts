import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { configQueryOptions } from "../../../lib/config";
import type { CustomerCall, CustomerCallRequest } from "../../../types/api";

const POLL_MS = 2_000;

/** The simulator's panel shows only in simulated voice mode. */
export function useSimulatedMode(): boolean {
  return useQuery(configQueryOptions).data?.voice_mode === "simulated";
}

export const customerCallsQueryOptions = queryOptions({
  queryKey: ["simulator", "customers"],
  queryFn: ({ signal }) => apiClient.get<CustomerCall[]>("/simulator/customers/calls", signal),
});

/** Simulated customers, newest first, asked for every 2 s while the panel is open. */
export function useCustomerCalls({ enabled }: { enabled: boolean }) {
  return useQuery({ ...customerCallsQueryOptions, enabled, refetchInterval: enabled ? POLL_MS : false });
}

export function useStartCustomerCall() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (from: string) =>
      apiClient.post<CustomerCall>("/simulator/customers/calls", { from } satisfies CustomerCallRequest),
    onSettled: () => queryClient.invalidateQueries({ queryKey: customerCallsQueryOptions.queryKey }),
  });
}

export function useHangUpCustomer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (callSid: string) =>
      apiClient.post<CustomerCall>(`/simulator/customers/calls/${encodeURIComponent(callSid)}/hangup`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: customerCallsQueryOptions.queryKey }),
  });
}
