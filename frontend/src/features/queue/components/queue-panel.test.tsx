import { act, screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";

import { customerLeg, makeCall, signIn } from "../../../testing/fixtures";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import type { Call, CallPage } from "../../../types/api";
import { queueQueryOptions } from "../api/get-queue";
import { QueuePanel } from "./queue-panel";

function waiting(id: number, from: string, secondsAgo: number): Call {
  return makeCall({
    id,
    status: "queued",
    from_number: from,
    created_at: new Date(Date.now() - secondsAgo * 1000).toISOString(),
    answered_at: null,
    owner_agent_id: null,
    legs: [customerLeg({ number: from })],
    handled_by: [],
  });
}

function queueRequests() {
  const searches: string[] = [];
  server.use(
    http.get("/api/calls", ({ request }) => {
      searches.push(new URL(request.url).search);
      // The history's order, newest first; the panel shows the longest wait first.
      return HttpResponse.json<CallPage>({
        items: [waiting(2, "+15550000002", 30), waiting(1, "+15550000001", 125)],
        next_cursor: null,
      });
    }),
  );
  return searches;
}

function rows() {
  return within(screen.getByRole("list", { name: "Waiting callers" }))
    .getAllByRole("listitem")
    .map((item) => item.textContent);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("QueuePanel", () => {
  it("lists who is waiting, longest first, with a running wait", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const searches = queueRequests();
    signIn();
    renderWithProviders(<QueuePanel />);

    expect(await screen.findByText("2 callers")).toBeInTheDocument();
    expect(rows()).toEqual(["+15550000001waiting 2:05", "+15550000002waiting 0:30"]);
    expect(searches[0]).toBe("?status=queued&limit=50");

    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(rows()[0]).toBe("+15550000001waiting 2:06");
  });

  it("shows the queue the event stream sends", async () => {
    queueRequests();
    signIn();
    const { queryClient } = renderWithProviders(<QueuePanel live />);
    await screen.findByText("2 callers");

    await act(async () => {
      queryClient.setQueryData(queueQueryOptions.queryKey, []);
      await new Promise((resolve) => setTimeout(resolve, 0));
    });

    expect(screen.getByText("Nobody is waiting.")).toBeInTheDocument();
    expect(screen.getByText("0 callers")).toBeInTheDocument();
  });

  it("asks again every 15 s only while the live updates are down", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const searches = queueRequests();
    signIn();
    const { rerender } = renderWithProviders(<QueuePanel />);
    await screen.findByText("2 callers");

    await act(() => vi.advanceTimersByTimeAsync(15_000));
    expect(searches).toHaveLength(2);

    rerender(<QueuePanel live />);
    await act(() => vi.advanceTimersByTimeAsync(45_000));
    expect(searches).toHaveLength(2);
  });
});
