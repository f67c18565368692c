import { screen, waitFor, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import {
  ada,
  agentLeg,
  customerLeg,
  directory,
  grace,
  makeCall,
  makeTransfer,
  signIn,
} from "../../../testing/fixtures";
import { errorResponse } from "../../../testing/handlers";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import type { Call, CallPage, TimelineEvent } from "../../../types/api";
import { CallHistory } from "./call-history";

function pastCall(id: number, overrides: Partial<Call> = {}): Call {
  return makeCall({
    id,
    from_number: `+1555000${String(id).padStart(4, "0")}`,
    status: "completed",
    created_at: "2026-11-25T12:00:00Z",
    answered_at: "2026-11-25T12:00:12Z",
    ended_at: "2026-11-25T12:05:12Z",
    ended_by: "customer",
    legs: [customerLeg({ status: "completed" }), agentLeg(ada.id, { status: "completed" })],
    wait_seconds: 12,
    talk_seconds: 300,
    ...overrides,
  });
}

/** 45 calls, served newest first 20 at a time, as the backend pages them. */
function historyServer() {
  const calls = Array.from({ length: 45 }, (_, index) => pastCall(45 - index));
  const searches: URLSearchParams[] = [];
  server.use(
    http.get("/api/calls", ({ request }) => {
      const params = new URL(request.url).searchParams;
      searches.push(params);
      const limit = Number(params.get("limit"));
      const cursor = params.get("cursor");
      const status = params.get("status");
      const older = calls.filter(
        (call) =>
          (cursor === null || call.id < Number(cursor)) && (status === null || call.status === status),
      );
      const items = older.slice(0, limit);
      const next = older.length > limit ? String(items.at(-1)?.id) : null;
      return HttpResponse.json<CallPage>({ items, next_cursor: next });
    }),
  );
  return searches;
}

function renderHistory() {
  signIn();
  return renderWithProviders(<CallHistory agentId={ada.id} agents={directory} />);
}

function callRows() {
  // The first row is the header.
  return within(screen.getByRole("table", { name: "Calls" }))
    .getAllByRole("row")
    .slice(1);
}

describe("CallHistory", () => {
  it("pages through older calls with the cursor", async () => {
    const searches = historyServer();
    const { user } = renderHistory();

    await screen.findByRole("table", { name: "Calls" });
    expect(callRows()).toHaveLength(20);
    expect(searches[0]?.get("cursor")).toBeNull();
    expect(searches[0]?.get("limit")).toBe("20");

    await user.click(screen.getByRole("button", { name: "Load older calls" }));
    await waitFor(() => expect(callRows()).toHaveLength(40));
    expect(searches[1]?.get("cursor")).toBe("26");

    await user.click(screen.getByRole("button", { name: "Load older calls" }));
    await waitFor(() => expect(callRows()).toHaveLength(45));
    expect(searches[2]?.get("cursor")).toBe("6");
    expect(within(callRows()[44]!).getByText("+15550000001")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load older calls" })).not.toBeInTheDocument();
  });

  it("shows each call's caller, status, handlers, transfers, times and who hung up", async () => {
    server.use(
      http.get("/api/calls", () =>
        HttpResponse.json<CallPage>({
          items: [
            pastCall(2, {
              from_number: "+15551230000",
              handled_by: [ada.id, grace.id],
              transfers: [
                makeTransfer({ id: 1, to_agent_id: "agent3", status: "declined" }),
                makeTransfer({ id: 2, status: "completed" }),
              ],
              wait_seconds: 12.4,
              talk_seconds: 3725,
              ended_by: "agent:agent2",
            }),
            pastCall(1, {
              status: "queued",
              answered_at: null,
              ended_at: null,
              ended_by: null,
              handled_by: [],
              wait_seconds: null,
              talk_seconds: null,
            }),
          ],
          next_cursor: null,
        }),
      ),
    );
    renderHistory();

    await screen.findByRole("table", { name: "Calls" });
    const [transferred, waiting] = callRows().map((row) =>
      within(row)
        .getAllByRole("cell")
        .slice(1, 8)
        .map((cell) => cell.textContent),
    );
    expect(transferred).toEqual([
      "+15551230000",
      "Ended",
      "Ada Lovelace, Grace Hopper",
      "to Alan Turing: declinedto Grace Hopper: completed",
      "0:12",
      "1:02:05",
      "Grace Hopper",
    ]);
    expect(waiting).toEqual(["+15550000001", "Waiting", "Nobody", "—", "—", "—", "—"]);
  });

  it("filters by status and by the agent's own calls", async () => {
    const searches = historyServer();
    const { user } = renderHistory();
    await screen.findByRole("table", { name: "Calls" });

    await user.selectOptions(screen.getByRole("combobox", { name: "Status" }), "in_progress");
    await waitFor(() => expect(searches.at(-1)?.get("status")).toBe("in_progress"));
    expect(await screen.findByText("No calls yet.")).toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: "Only calls I took part in" }));
    await waitFor(() => expect(searches.at(-1)?.get("agent_id")).toBe(ada.id));
  });

  it("opens a call's details with its timeline", async () => {
    const call = pastCall(7, {
      from_number: "+15551230000",
      legs: [customerLeg({ status: "completed" }), agentLeg(ada.id, { status: "completed" })],
      transfers: [makeTransfer({ call_id: 7, status: "no_answer", reason: "agent2 did not answer" })],
    });
    server.use(
      http.get("/api/calls", () => HttpResponse.json<CallPage>({ items: [call], next_cursor: null })),
      http.get("/api/calls/7", () => HttpResponse.json(call)),
      http.get("/api/calls/7/events", () =>
        HttpResponse.json<TimelineEvent[]>([
          {
            id: 1,
            source: "conference",
            name: "conference-start",
            call_sid: null,
            sequence_number: 1,
            received_at: "2026-11-25T12:00:12Z",
          },
          {
            id: 2,
            source: "call",
            name: "completed",
            call_sid: "CAagent1",
            sequence_number: null,
            received_at: "2026-11-25T12:05:12Z",
          },
        ]),
      ),
    );
    const { user } = renderHistory();

    await user.click(await screen.findByRole("button", { name: "Details of the call from +15551230000" }));

    const dialog = await screen.findByRole("dialog", { name: "Call from +15551230000" });
    expect(await within(dialog).findByRole("table", { name: "Timeline" })).toBeInTheDocument();
    const timeline = within(within(dialog).getByRole("table", { name: "Timeline" })).getAllByRole("row");
    expect(
      timeline.map((row) =>
        within(row)
          .queryAllByRole("cell")
          .slice(1)
          .map((cell) => cell.textContent),
      ),
    ).toEqual([[], ["Conference", "conference-start", "1"], ["Call leg", "completed", "—"]]);
    expect(
      within(dialog).getByText("Ada Lovelace to Grace Hopper (warm): no answer — agent2 did not answer"),
    ).toBeInTheDocument();
    expect(within(dialog).getByRole("table", { name: "Participants" })).toHaveTextContent(
      "Customer +15551230000Left",
    );
  });

  it("says so when the history can't be loaded", async () => {
    server.use(http.get("/api/calls", () => errorResponse(500, "internal_error", "Something broke.")));
    renderHistory();

    expect(await screen.findByText("Couldn't load the call history.")).toBeInTheDocument();
  });
});
