import { queryOptions, useQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import type { Agent } from "../../../types/api";

/** How often the directory is asked for while the event stream isn't there to push it. */
export const POLL_MS = 15_000;

export const agentsQueryOptions = queryOptions({
  queryKey: ["agents"],
  queryFn: ({ signal }) => apiClient.get<Agent[]>("/api/agents", signal),
});

/** `poll`: ask again every 15 s (while the live updates are down). */
export function useAgents({ poll }: { poll: boolean }) {
  return useQuery({ ...agentsQueryOptions, refetchInterval: poll ? POLL_MS : false });
}
