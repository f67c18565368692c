import { queryOptions, useQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import type { Agent } from "../../../types/api";

export const meQueryOptions = queryOptions({
  queryKey: ["me"],
  queryFn: ({ signal }) => apiClient.get<Agent>("/api/me", signal),
});

export function useMe() {
  return useQuery(meQueryOptions);
}
