/**
 * The console's live view of the logged-in agent's calls, kept in TanStack Query's cache. The
 * event stream feeds it (a `call` event is one of the agent's calls as it is now), and so do the
 * answers of the call actions (hold, leave, transfers), so the panels change as soon as the
 * server has. Several features read it; none owns it, so it lives here.
 */
import {
  queryOptions,
  skipToken,
  useQuery,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";

import type { Call, CallPage, Leg, LegStatus, Transfer, TransferStatus } from "../types/api";
import { apiClient } from "./api-client";

export const callKeys = {
  all: ["calls"] as const,
  /** The agent's calls as the event stream reported them: no request fetches this list. */
  mine: ["calls", "mine"] as const,
  detail: (id: number) => ["calls", "detail", id] as const,
  /** Prefix of every page of the history, whatever its filters. */
  history: ["calls", "history"] as const,
};

const LIVE_LEG_STATUSES: ReadonlySet<LegStatus> = new Set(["dialing", "queued", "ringing", "in_progress"]);
const ACTIVE_TRANSFER_STATUSES: ReadonlySet<TransferStatus> = new Set(["dialing", "ringing", "consulting"]);
/** Ended calls kept in the list, so the console can say how the last one ended. */
const ENDED_KEPT = 5;

export function isLegLive(leg: Leg): boolean {
  return LIVE_LEG_STATUSES.has(leg.status);
}

export function isTransferActive(transfer: Transfer): boolean {
  return ACTIVE_TRANSFER_STATUSES.has(transfer.status);
}

/** The call's transfer under way, if any (the server allows one at a time). */
export function activeTransfer(call: Call): Transfer | undefined {
  return call.transfers.find(isTransferActive);
}

/** The agent's leg on the call that is still up: being offered (dialing, ringing) or connected. */
export function myLiveLeg(call: Call, agentId: string): Leg | undefined {
  if (call.status === "completed") return undefined;
  return call.legs.find((leg) => leg.role === "agent" && leg.agent_id === agentId && isLegLive(leg));
}

export interface MyCalls {
  /** The call the agent is connected to. */
  current: Call | null;
  /** The call being offered to the agent (a new call or a transfer): their leg rings. */
  offer: Call | null;
  /** The most recent call the agent talked on and is no longer part of. */
  last: Call | null;
}

/** The server offers an agent one call at a time, so there is at most one of each. */
export function sortMyCalls(calls: readonly Call[], agentId: string): MyCalls {
  let current: Call | null = null;
  let offer: Call | null = null;
  let last: Call | null = null;
  for (const call of calls) {
    const leg = myLiveLeg(call, agentId);
    if (leg?.status === "in_progress") current = call;
    else if (leg !== undefined) offer = call;
    else if (call.legs.some((candidate) => candidate.agent_id === agentId && candidate.joined_at !== null)) {
      if (last === null || call.id > last.id) last = call;
    }
  }
  return { current, offer, last };
}

export function fetchCall(id: number, signal?: AbortSignal): Promise<Call> {
  return apiClient.get<Call>(`/api/calls/${String(id)}`, signal);
}

const myCallsQueryOptions = queryOptions({
  queryKey: callKeys.mine,
  queryFn: skipToken,
  initialData: [] as Call[],
  staleTime: Infinity,
});

export function useMyCalls(agentId: string): MyCalls {
  const { data } = useQuery(myCallsQueryOptions);
  return sortMyCalls(data ?? [], agentId);
}

function withCall(calls: readonly Call[], call: Call): Call[] {
  const others = calls.filter((candidate) => candidate.id !== call.id);
  const merged = [...others, call].sort((a, b) => a.id - b.id);
  const ended = merged.filter((candidate) => candidate.status === "completed");
  const dropped = new Set(ended.slice(0, Math.max(0, ended.length - ENDED_KEPT)));
  return merged.filter((candidate) => !dropped.has(candidate));
}

/** The call's rows in the history's loaded pages, whatever the filters. */
function historyRows(queryClient: QueryClient, id: number): Call[] {
  return queryClient
    .getQueriesData<InfiniteData<CallPage>>({ queryKey: callKeys.history })
    .flatMap(
      ([, history]) => history?.pages.flatMap((page) => page.items.filter((item) => item.id === id)) ?? [],
    );
}

/** One of the agent's calls as it is now (from an event or an action's answer). */
export function receiveCall(queryClient: QueryClient, call: Call): void {
  const listed = historyRows(queryClient, call.id);
  const previous =
    queryClient.getQueryData<Call>(callKeys.detail(call.id)) ??
    queryClient.getQueryData<Call[]>(callKeys.mine)?.find((candidate) => candidate.id === call.id) ??
    listed[0];
  queryClient.setQueryData<Call>(callKeys.detail(call.id), call);
  queryClient.setQueryData<Call[]>(callKeys.mine, (calls = []) => withCall(calls, call));

  // The history shows the call as it is now: its rows are replaced where they are; a new call, or
  // one whose status changed (a status filter may now show or hide it), has the history asked again.
  if (listed.length > 0) {
    queryClient.setQueriesData<InfiniteData<CallPage>>({ queryKey: callKeys.history }, (history) =>
      history === undefined
        ? history
        : {
            ...history,
            pages: history.pages.map((page) => ({
              ...page,
              items: page.items.map((item) => (item.id === call.id ? call : item)),
            })),
          },
    );
  }
  if (listed.length === 0 || previous?.status !== call.status) {
    void queryClient.invalidateQueries({ queryKey: callKeys.history });
  }
}

/** A transfer as an action answered it; the `call` event that follows says the same. */
export function receiveTransfer(queryClient: QueryClient, transfer: Transfer): void {
  const update = (call: Call): Call => {
    if (call.id !== transfer.call_id) return call;
    const known = call.transfers.some((candidate) => candidate.id === transfer.id);
    const transfers = known
      ? call.transfers.map((candidate) => (candidate.id === transfer.id ? transfer : candidate))
      : [...call.transfers, transfer];
    return { ...call, transfers };
  };
  queryClient.setQueryData<Call>(callKeys.detail(transfer.call_id), (call) => call && update(call));
  queryClient.setQueryData<Call[]>(callKeys.mine, (calls) => calls?.map(update));
}

/**
 * After the stream reconnects: it re-sends the calls not yet ended, but says nothing about a call
 * that ended (or an offer that lapsed) while it was down. Asks for each call the console still
 * shows as live for the agent, and takes the answer only when it shows their part over, which
 * can't be out of date.
 */
export async function recheckMyCalls(queryClient: QueryClient, agentId: string): Promise<void> {
  const calls = queryClient.getQueryData<Call[]>(callKeys.mine) ?? [];
  const live = calls.filter((call) => myLiveLeg(call, agentId) !== undefined);
  await Promise.all(
    live.map(async (call) => {
      try {
        const fresh = await fetchCall(call.id);
        if (myLiveLeg(fresh, agentId) === undefined) receiveCall(queryClient, fresh);
      } catch {
        // The next event about the call, or the next reconnection, tells.
      }
    }),
  );
}
