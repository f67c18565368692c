import { screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import {
  ada,
  agentLeg,
  CUSTOMER_NUMBER,
  customerLeg,
  directory,
  grace,
  makeCall,
  makeTransfer,
  offeredCall,
} from "../../../testing/fixtures";
import { renderWithProviders } from "../../../testing/render";
import type { Call } from "../../../types/api";
import { IncomingCallBanner } from "./incoming-call-banner";

function renderBanner({
  offer,
  ringing = true,
  me = ada.id,
}: {
  offer: Call | null;
  ringing?: boolean;
  me?: string;
}) {
  const onAccept = vi.fn();
  const onReject = vi.fn();
  const utils = renderWithProviders(
    <>
      <input aria-label="Notes" />
      <IncomingCallBanner
        offer={offer}
        ringing={ringing}
        agentId={me}
        agents={directory}
        onAccept={onAccept}
        onReject={onReject}
      />
    </>,
  );
  return { ...utils, onAccept, onReject };
}

function banner() {
  return screen.getByRole("region", { name: "Incoming call" });
}

describe("IncomingCallBanner", () => {
  it("names the real caller of a new call, from the server's offer", () => {
    renderBanner({ offer: offeredCall(ada) });

    expect(within(banner()).getByText(`Incoming call from ${CUSTOMER_NUMBER}`)).toBeInTheDocument();
  });

  it("says who is handing over a transfer", () => {
    // Ada consults Grace: Grace's leg rings, Grace's console shows the offer.
    const transfer = makeCall({
      legs: [
        customerLeg({ on_hold: true }),
        agentLeg(ada.id),
        agentLeg(grace.id, { status: "ringing", joined_at: null }),
      ],
      transfers: [makeTransfer({ status: "ringing", from_agent_id: ada.id, to_agent_id: grace.id })],
    });

    renderBanner({ offer: transfer, me: grace.id });

    expect(
      within(banner()).getByText(`Ada Lovelace is transferring a call from ${CUSTOMER_NUMBER} to you`),
    ).toBeInTheDocument();
  });

  it("rings before the server's offer arrives without naming the Twilio number", () => {
    renderBanner({ offer: null });

    expect(within(banner()).getByText("Incoming call")).toBeInTheDocument();
  });

  it("shows nothing when nothing rings and nothing is offered", () => {
    renderBanner({ offer: null, ringing: false });

    expect(screen.queryByRole("region", { name: "Incoming call" })).not.toBeInTheDocument();
  });

  it("accepts and rejects with the buttons", async () => {
    const { user, onAccept, onReject } = renderBanner({ offer: offeredCall(ada) });

    await user.click(screen.getByRole("button", { name: "Accept" }));
    await user.click(screen.getByRole("button", { name: "Reject" }));

    expect(onAccept).toHaveBeenCalledOnce();
    expect(onReject).toHaveBeenCalledOnce();
  });

  it("accepts with A and rejects with R, as it announces, but not while the agent types", async () => {
    const { user, onAccept, onReject } = renderBanner({ offer: offeredCall(ada) });
    expect(within(banner()).getByText("accept")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Accept" })).toHaveAttribute("aria-keyshortcuts", "A");

    await user.type(screen.getByRole("textbox", { name: "Notes" }), "a rare call");
    expect(onAccept).not.toHaveBeenCalled();
    expect(onReject).not.toHaveBeenCalled();

    await user.click(within(banner()).getByText(`Incoming call from ${CUSTOMER_NUMBER}`));
    await user.keyboard("a");
    expect(onAccept).toHaveBeenCalledOnce();
    await user.keyboard("r");
    expect(onReject).toHaveBeenCalledOnce();
  });

  it("waits for the softphone to ring before it can be answered", async () => {
    const { user, onAccept } = renderBanner({ offer: offeredCall(ada), ringing: false });

    expect(screen.getByText(/Waiting for your softphone to ring/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Accept" })).toBeDisabled();
    await user.keyboard("a");
    expect(onAccept).not.toHaveBeenCalled();
  });
});
