import { queryOptions, useQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import type { Call, CallPage } from "../../../types/api";

/** As many waiting calls as the server's `queue` event lists. */
const LIMIT = 50;
const POLL_MS = 15_000;

function oldestFirst(calls: Call[]): Call[] {
  return [...calls].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
}

/** Calls waiting for an agent now, oldest first: the `queue` event's list, or asked for. */
export const queueQueryOptions = queryOptions({
  queryKey: ["queue"],
  queryFn: async ({ signal }) =>
    oldestFirst(
      (await apiClient.get<CallPage>(`/api/calls?status=queued&limit=${String(LIMIT)}`, signal)).items,
    ),
});

export function useQueue({ poll }: { poll: boolean }) {
  return useQuery({ ...queueQueryOptions, refetchInterval: poll ? POLL_MS : false });
}
