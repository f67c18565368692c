import { queryOptions, useQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import type { Agent } from "../../../types/api";

// Polled until the server's event stream pushes presence changes.
const REFRESH_MS = 15_000;

export const agentsQueryOptions = queryOptions({
  queryKey: ["agents"],
  queryFn: ({ signal }) => apiClient.get<Agent[]>("/api/agents", signal),
  refetchInterval: REFRESH_MS,
});

export function useAgents() {
  return useQuery(agentsQueryOptions);
}
