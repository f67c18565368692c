import { queryOptions, useQuery } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import { callKeys, fetchCall } from "../../../lib/live-calls";
import type { TimelineEvent } from "../../../types/api";

/** One call with its legs and transfers; the event stream keeps it current while it's the agent's. */
export function callQueryOptions(id: number) {
  return queryOptions({
    queryKey: callKeys.detail(id),
    queryFn: ({ signal }) => fetchCall(id, signal),
  });
}

export function useCall(id: number) {
  return useQuery(callQueryOptions(id));
}

/** Every Twilio callback received for the call, in order. */
export function callTimelineQueryOptions(id: number) {
  return queryOptions({
    queryKey: [...callKeys.detail(id), "timeline"],
    queryFn: ({ signal }) => apiClient.get<TimelineEvent[]>(`/api/calls/${String(id)}/events`, signal),
  });
}

export function useCallTimeline(id: number) {
  return useQuery(callTimelineQueryOptions(id));
}
