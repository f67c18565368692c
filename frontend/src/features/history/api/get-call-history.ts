import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { callKeys } from "../../../lib/live-calls";
import type { CallPage, CallStatus } from "../../../types/api";

export const PAGE_SIZE = 20;
/**
 * The event stream updates the agent's own calls in the history as they change; calls other
 * agents take are not streamed to this console, so the history is asked again now and then.
 */
const REFRESH_MS = 60_000;

export interface HistoryFilter {
  status: CallStatus | null;
  /** Only calls this agent took part in. */
  agentId: string | null;
}

export function historyUrl(filter: HistoryFilter, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor !== null) params.set("cursor", cursor);
  if (filter.status !== null) params.set("status", filter.status);
  if (filter.agentId !== null) params.set("agent_id", filter.agentId);
  return `/api/calls?${params.toString()}`;
}

/** Newest first, a page at a time: each page's `next_cursor` asks for the next, older one. */
export function callHistoryQueryOptions(filter: HistoryFilter) {
  return infiniteQueryOptions({
    queryKey: [...callKeys.history, filter],
    queryFn: ({ pageParam, signal }) => apiClient.get<CallPage>(historyUrl(filter, pageParam), signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
    refetchInterval: REFRESH_MS,
  });
}

export function useCallHistory(filter: HistoryFilter) {
  return useInfiniteQuery(callHistoryQueryOptions(filter));
}
