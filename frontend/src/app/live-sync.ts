import type { QueryClient, QueryKey } from "@tanstack/react-query";

import { meQueryOptions } from "../features/availability";
import { agentsQueryOptions } from "../features/directory";
import type { LiveEvent } from "../features/events";
import { queueQueryOptions } from "../features/queue";
import { callKeys, receiveCall, recheckMyCalls } from "../lib/live-calls";
import type { Agent, Call } from "../types/api";

/**
 * The event's data replaces the cached data. A request for the same data still under way is
 * canceled first (TanStack restores what it had, synchronously), so its older answer can't land
 * on top of the newer event.
 */
function put(queryClient: QueryClient, queryKey: QueryKey, data: unknown): void {
  void queryClient.cancelQueries({ queryKey, exact: true });
  queryClient.setQueryData(queryKey, data);
}

/** The directory with the changed agents in place of theirs (a new one at the end, until the next whole directory). */
function withChanges(directory: readonly Agent[], changed: readonly Agent[]): Agent[] {
  const byId = new Map(directory.map((agent) => [agent.id, agent]));
  for (const agent of changed) byId.set(agent.id, agent);
  return [...byId.values()];
}

function putMe(queryClient: QueryClient, agentId: string, agents: readonly Agent[]): void {
  const me = agents.find((agent) => agent.id === agentId);
  if (me !== undefined) put(queryClient, meQueryOptions.queryKey, me);
}

function sameCalls(a: readonly Call[] | undefined, b: readonly Call[]): boolean {
  return a?.length === b.length && a.every((call, index) => call.id === b[index]?.id);
}

/**
 * Feeds one event from the server's stream into the query cache, where the panels read it: each
 * panel shows its query, whether a request or the stream filled it.
 */
export function applyLiveEvent(queryClient: QueryClient, agentId: string, event: LiveEvent): void {
  switch (event.type) {
    case "hello":
      put(queryClient, meQueryOptions.queryKey, event.me);
      // A new connection: calls that ended while the stream was down won't be mentioned.
      void recheckMyCalls(queryClient, agentId);
      return;
    case "directory":
      put(queryClient, agentsQueryOptions.queryKey, event.agents);
      putMe(queryClient, agentId, event.agents);
      return;
    case "agents": {
      const directory = queryClient.getQueryData(agentsQueryOptions.queryKey);
      if (directory === undefined) {
        // Nothing to change yet (the stream always starts with the whole directory): fetch it.
        void queryClient.invalidateQueries({ queryKey: agentsQueryOptions.queryKey });
      } else {
        put(queryClient, agentsQueryOptions.queryKey, withChanges(directory, event.agents));
      }
      putMe(queryClient, agentId, event.agents);
      return;
    }
    case "queue": {
      const before = queryClient.getQueryData(queueQueryOptions.queryKey);
      put(queryClient, queueQueryOptions.queryKey, event.calls);
      // Calls joining or leaving the queue are new or newly answered rows in the history.
      if (!sameCalls(before, event.calls)) void queryClient.invalidateQueries({ queryKey: callKeys.history });
      return;
    }
    case "call":
      receiveCall(queryClient, event.call);
      return;
  }
}
