import { act, screen, waitFor, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { receiveCall, useMyCalls } from "../../../lib/live-calls";
import {
  ada,
  agentLeg,
  alan,
  CUSTOMER_NUMBER,
  customerLeg,
  directory,
  externalLeg,
  grace,
  makeCall,
  makeTransfer,
  signIn,
} from "../../../testing/fixtures";
import { errorResponse } from "../../../testing/handlers";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import type { Call, HoldRequest } from "../../../types/api";
import { ActiveCallPanel, type SoftphoneLeg } from "./active-call-panel";

interface FakeSoftphone {
  connected: boolean;
  setMuted: ReturnType<typeof vi.fn<(muted: boolean) => void>>;
  hangUp: ReturnType<typeof vi.fn<() => void>>;
}

function fakeSoftphone({ connected = true } = {}): FakeSoftphone {
  return { connected, setMuted: vi.fn(), hangUp: vi.fn() };
}

/** As the console does: the panel shows the agent's current call from the live cache. */
function Harness({ phone }: { phone: FakeSoftphone }) {
  const { current, last } = useMyCalls(ada.id);
  const [connected, setConnected] = useState(phone.connected);
  const [muted, setMuted] = useState(false);
  const softphone: SoftphoneLeg = {
    connected,
    muted,
    setMuted: (next) => {
      phone.setMuted(next);
      setMuted(next);
    },
    hangUp: () => {
      phone.hangUp();
      setConnected(false);
    },
  };
  return (
    <>
      <input aria-label="Notes" />
      <ActiveCallPanel
        call={current}
        lastCall={last}
        agentId={ada.id}
        agents={directory}
        softphone={softphone}
      />
    </>
  );
}

async function renderPanel(call: Call | null, softphone = fakeSoftphone()) {
  signIn();
  const utils = renderWithProviders(<Harness phone={softphone} />);
  /** Plays the server's `call` event (TanStack tells its observers on the next tick). */
  const update = async (next: Call) => {
    await act(async () => {
      receiveCall(utils.queryClient, next);
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  };
  if (call !== null) await update(call);
  return { ...utils, softphone, update };
}

function participants() {
  return within(screen.getByRole("list", { name: "Participants" }))
    .getAllByRole("listitem")
    .map((item) => item.textContent);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ActiveCallPanel", () => {
  it("says there is no call, and how the last one ended", async () => {
    const { update } = await renderPanel(null, fakeSoftphone({ connected: false }));
    expect(screen.getByText(/No active call/)).toBeInTheDocument();

    await update(
      makeCall({
        status: "completed",
        ended_by: "customer",
        legs: [customerLeg({ status: "completed" }), agentLeg(ada.id, { status: "completed" })],
      }),
    );

    expect(screen.getByText(`Last call, ${CUSTOMER_NUMBER}: the customer hung up.`)).toBeInTheDocument();
  });

  it("shows the caller and who is on the call, live from the call's legs", async () => {
    const { update } = await renderPanel(makeCall());

    expect(screen.getByLabelText("Caller")).toHaveTextContent(CUSTOMER_NUMBER);
    expect(participants()).toEqual([
      `Customer: ${CUSTOMER_NUMBER}Connected`,
      "Agent: Ada Lovelace (you)Connected",
    ]);

    // A warm transfer to Grace: she rings, then joins the consult while the customer holds.
    const adasLeg = agentLeg(ada.id);
    const gracesLeg = agentLeg(grace.id, { status: "ringing", joined_at: null });
    await update(
      makeCall({
        legs: [customerLeg({ on_hold: true }), adasLeg, gracesLeg],
        transfers: [makeTransfer({ status: "ringing" })],
      }),
    );
    expect(participants()).toEqual([
      `Customer: ${CUSTOMER_NUMBER}On hold`,
      "Agent: Ada Lovelace (you)Connected",
      "Agent: Grace HopperRinging",
    ]);
    expect(screen.getByText("Customer on hold")).toBeInTheDocument();

    await update(
      makeCall({
        legs: [customerLeg({ on_hold: true }), adasLeg, { ...gracesLeg, status: "in_progress" }],
        transfers: [makeTransfer({ status: "consulting" })],
      }),
    );
    expect(participants()).toContain("Agent: Grace HopperConsulting");

    // Legs that ended leave the list; outside numbers show as such.
    await update(
      makeCall({
        legs: [
          customerLeg(),
          { ...adasLeg, muted: true },
          { ...gracesLeg, status: "busy" },
          agentLeg(alan.id, { status: "completed" }),
          externalLeg("+442071234567"),
        ],
      }),
    );
    expect(participants()).toEqual([
      `Customer: ${CUSTOMER_NUMBER}Connected`,
      "Agent: Ada Lovelace (you) (muted)Connected",
      "Outside number: +442071234567Connected",
    ]);
  });

  it("runs a clock from when the call was answered", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const answeredAt = new Date(Date.now() - 65_000).toISOString();
    await renderPanel(makeCall({ answered_at: answeredAt }));

    expect(screen.getByLabelText("Call duration")).toHaveTextContent("1:05");
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(screen.getByLabelText("Call duration")).toHaveTextContent("1:06");
  });

  it("holds and resumes the customer through the server", async () => {
    const sent: HoldRequest[] = [];
    server.use(
      http.post("/api/calls/42/hold", async ({ request }) => {
        const body = (await request.json()) as HoldRequest;
        sent.push(body);
        return HttpResponse.json(makeCall({ legs: [customerLeg({ on_hold: body.hold }), agentLeg(ada.id)] }));
      }),
    );
    const { user } = await renderPanel(makeCall());

    await user.click(screen.getByRole("button", { name: "Hold customer" }));
    expect(await screen.findByRole("button", { name: "Resume customer" })).toBeInTheDocument();
    expect(participants()[0]).toBe(`Customer: ${CUSTOMER_NUMBER}On hold`);

    await user.click(screen.getByRole("button", { name: "Resume customer" }));
    expect(await screen.findByRole("button", { name: "Hold customer" })).toBeInTheDocument();
    expect(sent).toEqual([{ hold: true }, { hold: false }]);
  });

  it("holds with H, but not while the agent types", async () => {
    const sent: HoldRequest[] = [];
    server.use(
      http.post("/api/calls/42/hold", async ({ request }) => {
        sent.push((await request.json()) as HoldRequest);
        return HttpResponse.json(makeCall({ legs: [customerLeg({ on_hold: true }), agentLeg(ada.id)] }));
      }),
    );
    const { user } = await renderPanel(makeCall());

    await user.type(screen.getByRole("textbox", { name: "Notes" }), "hush");
    expect(sent).toEqual([]);

    expect(screen.getByRole("button", { name: "Hold customer" })).toHaveAttribute("aria-keyshortcuts", "H");
    await user.click(screen.getByLabelText("Caller"));
    await user.keyboard("h");
    await waitFor(() => expect(sent).toEqual([{ hold: true }]));
  });

  it("hangs up through the server, then drops the softphone's leg", async () => {
    const left: string[] = [];
    server.use(
      http.post("/api/calls/:id/leave", ({ params }) => {
        left.push(String(params.id));
        return HttpResponse.json(
          makeCall({
            status: "completed",
            ended_by: "agent:agent1",
            legs: [customerLeg({ status: "completed" }), agentLeg(ada.id, { status: "completed" })],
          }),
        );
      }),
    );
    const { user, softphone } = await renderPanel(makeCall());

    await user.click(screen.getByRole("button", { name: "Hang up" }));

    await waitFor(() => expect(softphone.hangUp).toHaveBeenCalledOnce());
    expect(left).toEqual(["42"]);
    expect(await screen.findByText(/No active call/)).toBeInTheDocument();
    expect(screen.getByText(`Last call, ${CUSTOMER_NUMBER}: you ended the call.`)).toBeInTheDocument();
  });

  it("hangs up with Shift+E", async () => {
    const left: string[] = [];
    server.use(
      http.post("/api/calls/:id/leave", ({ params }) => {
        left.push(String(params.id));
        return HttpResponse.json(makeCall({ status: "completed" }));
      }),
    );
    const { user } = await renderPanel(makeCall());

    await user.keyboard("e");
    expect(left).toEqual([]);
    await user.keyboard("{Shift>}E{/Shift}");

    await waitFor(() => expect(left).toEqual(["42"]));
  });

  it("says what hanging up does while a transfer is under way", async () => {
    const { update } = await renderPanel(makeCall({ transfers: [makeTransfer({ status: "ringing" })] }));
    expect(
      screen.getByText("Hanging up leaves the customer on hold until Grace Hopper answers."),
    ).toBeInTheDocument();

    await update(makeCall({ transfers: [makeTransfer({ status: "consulting" })] }));
    expect(screen.getByText("Hanging up hands the call to Grace Hopper.")).toBeInTheDocument();
  });

  it.each([
    [409, "conference_not_ready", "The call is still connecting. Try again in a moment."],
    [502, "twilio_error", "Twilio couldn't do that just now, so nothing was changed. Try again."],
  ])("explains a refused hold (%i %s) in plain words", async (status, code, words) => {
    server.use(http.post("/api/calls/42/hold", () => errorResponse(status, code, "HTTP 503 from upstream")));
    const { user } = await renderPanel(makeCall());

    await user.click(screen.getByRole("button", { name: "Hold customer" }));

    expect(await screen.findByText("Couldn't hold the customer.")).toBeInTheDocument();
    expect(screen.getByText(words)).toBeInTheDocument();
    expect(screen.queryByText("HTTP 503 from upstream")).not.toBeInTheDocument();
  });

  it("keeps the softphone's leg when hanging up fails, unless the call is over anyway", async () => {
    server.use(
      http.post("/api/calls/42/leave", () => errorResponse(502, "twilio_error", "boom"), { once: true }),
      http.post("/api/calls/42/leave", () => errorResponse(409, "call_ended", "Call 42 has ended")),
    );
    const { user, softphone } = await renderPanel(makeCall());

    await user.click(screen.getByRole("button", { name: "Hang up" }));
    expect(await screen.findByText("Couldn't hang up.")).toBeInTheDocument();
    expect(softphone.hangUp).not.toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Hang up" }));
    expect(await screen.findByText("This call has already ended.")).toBeInTheDocument();
    expect(softphone.hangUp).toHaveBeenCalledOnce();
  });

  it("mutes the softphone", async () => {
    const softphone = fakeSoftphone();
    const { user } = await renderPanel(makeCall(), softphone);

    await user.click(screen.getByRole("button", { name: "Mute" }));

    expect(softphone.setMuted).toHaveBeenCalledWith(true);
  });

  it("offers mute and hang up while the softphone's answer reaches the server", async () => {
    const softphone = fakeSoftphone();
    const { user } = await renderPanel(null, softphone);

    expect(screen.getByText("Connecting you to the caller…")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Hang up" }));

    expect(softphone.hangUp).toHaveBeenCalledOnce();
  });
});
