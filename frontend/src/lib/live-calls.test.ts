import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import {
  ada,
  agentLeg,
  customerLeg,
  grace,
  makeCall,
  makeTransfer,
  offeredCall,
  signIn,
} from "../testing/fixtures";
import { server } from "../testing/server";
import type { Call, CallPage } from "../types/api";
import { callKeys, receiveCall, receiveTransfer, recheckMyCalls, sortMyCalls } from "./live-calls";

function mine(queryClient: QueryClient): Call[] {
  return queryClient.getQueryData<Call[]>(callKeys.mine) ?? [];
}

describe("sortMyCalls", () => {
  it("tells the call the agent is on from the one offered and the last one", () => {
    const talking = makeCall({ id: 1 });
    const offered = offeredCall(ada, { id: 2 });
    const earlier = makeCall({
      id: 3,
      status: "completed",
      legs: [customerLeg(), agentLeg(ada.id, { status: "completed" })],
    });
    const missed = offeredCall(ada, {
      id: 4,
      status: "completed",
      legs: [customerLeg(), agentLeg(ada.id, { status: "no_answer", joined_at: null })],
    });

    expect(sortMyCalls([talking, offered, earlier, missed], ada.id)).toEqual({
      current: talking,
      offer: offered,
      last: earlier,
    });
  });

  it("counts a call as over for the agent once their leg has ended, even if the call goes on", () => {
    const handedOver = makeCall({
      legs: [customerLeg(), agentLeg(ada.id, { status: "completed" }), agentLeg(grace.id)],
      transfers: [makeTransfer({ status: "completed" })],
    });

    expect(sortMyCalls([handedOver], ada.id)).toEqual({ current: null, offer: null, last: handedOver });
    expect(sortMyCalls([handedOver], grace.id).current).toBe(handedOver);
  });
});

describe("receiveCall", () => {
  it("keeps the live calls and the last few ended ones", () => {
    const queryClient = new QueryClient();
    const ended = Array.from({ length: 7 }, (_, index) => makeCall({ id: index + 1, status: "completed" }));
    const live = makeCall({ id: 100 });

    [live, ...ended].forEach((call) => {
      receiveCall(queryClient, call);
    });

    expect(mine(queryClient).map((call) => call.id)).toEqual([3, 4, 5, 6, 7, 100]);
    expect(queryClient.getQueryData(callKeys.detail(100))).toBe(live);
  });

  it("updates the call's row in the history, and has the history asked again for a new call", () => {
    const queryClient = new QueryClient();
    const historyKey = [...callKeys.history, { status: null }];
    const listed = makeCall({ id: 1 });
    queryClient.setQueryData<InfiniteData<CallPage>>(historyKey, {
      pages: [{ items: [listed], next_cursor: null }],
      pageParams: [null],
    });
    receiveCall(queryClient, listed);
    const history = () => queryClient.getQueryState(historyKey);
    expect(history()?.isInvalidated).toBe(false);

    const transferred = makeCall({ id: 1, transfers: [makeTransfer({ call_id: 1, status: "completed" })] });
    receiveCall(queryClient, transferred);
    expect(queryClient.getQueryData<InfiniteData<CallPage>>(historyKey)?.pages[0]?.items).toEqual([
      transferred,
    ]);
    expect(history()?.isInvalidated).toBe(false);

    receiveCall(queryClient, makeCall({ id: 2 }));
    expect(history()?.isInvalidated).toBe(true);
  });

  it("has the history asked again for a known call it doesn't list yet", () => {
    const queryClient = new QueryClient();
    receiveCall(queryClient, makeCall({ id: 3 }));
    const historyKey = [...callKeys.history, { status: null }];
    queryClient.setQueryData<InfiniteData<CallPage>>(historyKey, {
      pages: [{ items: [makeCall({ id: 1 })], next_cursor: null }],
      pageParams: [null],
    });

    receiveCall(queryClient, makeCall({ id: 3, legs: [customerLeg({ on_hold: true }), agentLeg(ada.id)] }));

    expect(queryClient.getQueryState(historyKey)?.isInvalidated).toBe(true);
  });

  it("replaces an earlier version of the same call", () => {
    const queryClient = new QueryClient();
    receiveCall(queryClient, makeCall());
    const held = makeCall({ legs: [customerLeg({ on_hold: true }), agentLeg(ada.id)] });

    receiveCall(queryClient, held);

    expect(mine(queryClient)).toEqual([held]);
  });
});

describe("receiveTransfer", () => {
  it("adds a new transfer to its call, and updates a known one", () => {
    const queryClient = new QueryClient();
    receiveCall(queryClient, makeCall());

    receiveTransfer(queryClient, makeTransfer({ status: "dialing" }));
    receiveTransfer(queryClient, makeTransfer({ status: "ringing" }));

    expect(mine(queryClient)[0]?.transfers.map((transfer) => transfer.status)).toEqual(["ringing"]);
    expect(queryClient.getQueryData<Call>(callKeys.detail(42))?.transfers).toHaveLength(1);
  });
});

describe("recheckMyCalls", () => {
  it("takes a call's end the stream missed, and nothing older than what the stream said", async () => {
    signIn();
    const queryClient = new QueryClient();
    const ended = makeCall({ id: 1 });
    const ongoing = makeCall({ id: 2, legs: [customerLeg({ on_hold: true }), agentLeg(ada.id)] });
    receiveCall(queryClient, ended);
    receiveCall(queryClient, ongoing);
    server.use(
      http.get("/api/calls/1", () =>
        HttpResponse.json(makeCall({ id: 1, status: "completed", ended_by: "customer" })),
      ),
      // An answer older than the last event: the customer wasn't on hold yet.
      http.get("/api/calls/2", () => HttpResponse.json(makeCall({ id: 2 }))),
    );

    await recheckMyCalls(queryClient, ada.id);

    const calls = mine(queryClient);
    expect(calls.find((call) => call.id === 1)?.status).toBe("completed");
    expect(calls.find((call) => call.id === 2)).toBe(ongoing);
    expect(sortMyCalls(calls, ada.id).current?.id).toBe(2);
  });
});
