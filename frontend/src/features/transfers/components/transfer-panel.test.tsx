import { act, screen, waitFor, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { configQueryOptions } from "../../../lib/config";
import { receiveCall, useMyCalls } from "../../../lib/live-calls";
import {
  ada,
  agentLeg,
  alan,
  config,
  customerLeg,
  directory,
  grace,
  katherine,
  makeCall,
  makeTransfer,
  signIn,
} from "../../../testing/fixtures";
import { errorResponse } from "../../../testing/handlers";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import type { Agent, Call, Transfer, TransferRequest } from "../../../types/api";
import { TransferPanel } from "./transfer-panel";

const available = (agent: Agent): Agent => ({ ...agent, availability: "available", presence: "available" });
// Grace and Katherine can take a transfer; Alan is on a call; Ada is me.
const agents = [ada, available(grace), alan, available(katherine)];

function Harness() {
  const { current } = useMyCalls(ada.id);
  return current === null ? (
    <p>No call</p>
  ) : (
    <TransferPanel call={current} agentId={ada.id} agents={agents} />
  );
}

async function renderPanel(call: Call = makeCall()) {
  signIn();
  const utils = renderWithProviders(<Harness />);
  const update = async (next: Call) => {
    await act(async () => {
      receiveCall(utils.queryClient, next);
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  };
  await update(call);
  return { ...utils, update };
}

/** The server: records what it is asked and answers with the transfer as it would be. */
function transferServer() {
  const started: TransferRequest[] = [];
  const ended: string[] = [];
  server.use(
    http.post("/api/calls/42/transfers", async ({ request }) => {
      const body = (await request.json()) as TransferRequest;
      started.push(body);
      return HttpResponse.json<Transfer>(
        makeTransfer({
          to_agent_id: body.to_agent_id ?? null,
          to_number: body.to_number ?? null,
          mode: body.mode,
          hold_customer: body.hold_customer,
        }),
        { status: 201 },
      );
    }),
    http.post("/api/calls/42/transfers/7/:ending", ({ params }) => {
      const ending = String(params.ending);
      ended.push(ending);
      return HttpResponse.json<Transfer>(
        makeTransfer({
          status: ending === "complete" ? "completed" : "canceled",
          reason: ending === "complete" ? "agent1 handed the call over" : "canceled by agent1",
          ended_at: "2026-11-25T12:01:00Z",
        }),
      );
    }),
  );
  return { started, ended };
}

function availableAgents() {
  return within(screen.getByRole("list", { name: "Available agents" }))
    .getAllByRole("listitem")
    .map((item) => item.textContent);
}

/** The call as `call` events tell it while the transfer to Grace goes on. */
function callWithTransfer(
  transfer: Partial<Transfer>,
  graceStatus: "ringing" | "in_progress" | "busy" = "ringing",
) {
  return makeCall({
    legs: [
      customerLeg({ on_hold: transfer.hold_customer ?? true }),
      agentLeg(ada.id),
      agentLeg(grace.id, {
        status: graceStatus,
        joined_at: graceStatus === "in_progress" ? "2026-11-25T12:00:30Z" : null,
      }),
    ],
    transfers: [makeTransfer(transfer)],
  });
}

describe("TransferPanel", () => {
  it("offers only available colleagues, not me, and narrows them by search", async () => {
    const { user } = await renderPanel();

    expect(availableAgents()).toEqual(["Grace Hopper agent2Transfer", "Katherine Johnson agent4Transfer"]);

    await user.type(screen.getByRole("searchbox", { name: "Search available agents" }), "kath");
    expect(availableAgents()).toEqual(["Katherine Johnson agent4Transfer"]);

    await user.clear(screen.getByRole("searchbox", { name: "Search available agents" }));
    await user.type(screen.getByRole("searchbox", { name: "Search available agents" }), "alan");
    expect(screen.getByText("No available agent matches “alan”.")).toBeInTheDocument();
  });

  it("says so when no colleague is available", async () => {
    signIn();
    const utils = renderWithProviders(
      <TransferPanel call={makeCall()} agentId={ada.id} agents={directory} />,
    );
    await utils.findByText(/Transfer/, { selector: "h3" });

    expect(screen.getByText("No colleague is available right now.")).toBeInTheDocument();
  });

  it.each([
    ["Warm", { to_agent_id: "agent2", mode: "warm", hold_customer: true }],
    ["Three-way", { to_agent_id: "agent2", mode: "warm", hold_customer: false }],
    ["Cold", { to_agent_id: "agent2", mode: "cold", hold_customer: true }],
  ])("starts a %s transfer", async (kind, request) => {
    const { started } = transferServer();
    const { user } = await renderPanel();
    expect(screen.getByRole("radio", { name: /^Warm/ })).toBeChecked();

    await user.click(screen.getByRole("radio", { name: new RegExp(`^${kind}`) }));
    await user.click(screen.getByRole("button", { name: "Transfer to Grace Hopper" }));

    await waitFor(() => expect(started).toEqual([request]));
  });

  it("follows the transfer: dialing, ringing, consulting, then completes it", async () => {
    const { ended } = transferServer();
    const { user, update } = await renderPanel();

    await user.click(screen.getByRole("button", { name: "Transfer to Grace Hopper" }));

    // The POST's answer: dialing.
    expect(await screen.findByText("Calling Grace Hopper…")).toBeInTheDocument();
    expect(screen.getByText("Dialing").closest("[aria-current]")).toHaveAttribute("aria-current", "step");
    expect(screen.getByRole("button", { name: "Complete transfer" })).toBeDisabled();

    await update(callWithTransfer({ status: "ringing" }));
    expect(screen.getByText("Ringing Grace Hopper…")).toBeInTheDocument();
    expect(screen.getByText("Ringing").closest("[aria-current]")).toHaveAttribute("aria-current", "step");
    expect(screen.getByRole("button", { name: "Complete transfer" })).toBeDisabled();
    expect(screen.getByText("You can complete the transfer once Grace Hopper joins.")).toBeInTheDocument();

    await update(callWithTransfer({ status: "consulting" }, "in_progress"));
    expect(
      screen.getByText("You're talking with Grace Hopper. The customer is on hold."),
    ).toBeInTheDocument();
    expect(screen.getByText("Consulting").closest("[aria-current]")).toHaveAttribute("aria-current", "step");
    expect(screen.getByRole("button", { name: "Complete transfer" })).toBeEnabled();

    await user.click(screen.getByRole("button", { name: "Complete transfer" }));

    await waitFor(() => expect(ended).toEqual(["complete"]));
  });

  it("describes a three-way consult", async () => {
    await renderPanel(callWithTransfer({ status: "consulting", hold_customer: false }, "in_progress"));

    expect(screen.getByText("Three-way call: you, Grace Hopper and the customer.")).toBeInTheDocument();
  });

  it("cancels while the target still rings", async () => {
    const { ended } = transferServer();
    const { user } = await renderPanel(callWithTransfer({ status: "ringing" }));

    await user.click(screen.getByRole("button", { name: "Cancel transfer" }));

    await waitFor(() => expect(ended).toEqual(["cancel"]));
    expect(
      await screen.findByText("The transfer to Grace Hopper was canceled: canceled by agent1."),
    ).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Transfer to Grace Hopper" })).toBeInTheDocument();
  });

  it.each([
    ["declined", "agent2 declined the call", "Grace Hopper declined the transfer."],
    ["no_answer", "agent2 did not answer", "Grace Hopper didn't answer."],
    ["busy", "agent2 was busy", "Grace Hopper was busy."],
    ["failed", "agent2 could not be reached", "Couldn't reach Grace Hopper."],
    [
      "canceled",
      "agent2 hung up during the consult",
      "The transfer to Grace Hopper was canceled: agent2 hung up during the consult.",
    ],
  ] as const)("tells the outcome %s in words", async (status, reason, words) => {
    const { user } = await renderPanel(
      callWithTransfer({ status, reason, ended_at: "2026-11-25T12:01:00Z", hold_customer: true }, "busy"),
    );

    expect(screen.getByText(words)).toBeInTheDocument();
    if (status !== "canceled")
      expect(screen.getByText("The customer is back with you, off hold.")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: /dismiss/i }));
    expect(screen.queryByText(words)).not.toBeInTheDocument();
  });

  it("explains why a transfer could not start", async () => {
    server.use(
      http.post("/api/calls/42/transfers", () =>
        errorResponse(409, "target_unavailable", "Agent 'agent2' cannot take a call right now"),
      ),
    );
    const { user } = await renderPanel();

    await user.click(screen.getByRole("button", { name: "Transfer to Grace Hopper" }));

    expect(await screen.findByText("Couldn't start the transfer.")).toBeInTheDocument();
    expect(
      screen.getByText("That agent can't take a call right now: they're away, offline or on another call."),
    ).toBeInTheDocument();
  });

  describe("to a number", () => {
    it("checks the number's format before asking the server", async () => {
      const { started } = transferServer();
      const { user } = await renderPanel();

      await user.type(
        await screen.findByRole("textbox", { name: "Or transfer to a number" }),
        "020 7123 4567",
      );
      await user.click(screen.getByRole("button", { name: "Transfer to number" }));

      expect(screen.getByText(/Enter the number in international format/)).toBeInTheDocument();
      expect(started).toEqual([]);

      await user.clear(screen.getByRole("textbox", { name: "Or transfer to a number" }));
      await user.type(screen.getByRole("textbox", { name: "Or transfer to a number" }), "+44 20 7123 4567");
      await user.click(screen.getByRole("button", { name: "Transfer to number" }));

      await waitFor(() =>
        expect(started).toEqual([{ to_number: "+442071234567", mode: "warm", hold_customer: true }]),
      );
      expect(await screen.findByText("Calling +442071234567…")).toBeInTheDocument();
    });

    it("says when the server doesn't allow the number", async () => {
      server.use(
        http.post("/api/calls/42/transfers", () =>
          errorResponse(403, "number_not_allowed", "Transfers to +4420… are not allowed"),
        ),
      );
      const { user } = await renderPanel();

      await user.type(
        await screen.findByRole("textbox", { name: "Or transfer to a number" }),
        "+442071234567",
      );
      await user.click(screen.getByRole("button", { name: "Transfer to number" }));

      expect(
        await screen.findByText("Transfers to this number aren't allowed on this server."),
      ).toBeInTheDocument();
    });
  });

  it("offers no number field when the server allows no outside numbers", async () => {
    server.use(http.get("/api/config", () => HttpResponse.json({ ...config, transfer_to_numbers: false })));
    const { queryClient } = await renderPanel();

    await waitFor(() => expect(queryClient.getQueryData(configQueryOptions.queryKey)).toBeDefined());
    expect(screen.getByRole("button", { name: "Transfer to Grace Hopper" })).toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Or transfer to a number" })).not.toBeInTheDocument();
  });

  it("tells the consulted agent whose transfer it is, without the controls", () => {
    signIn(grace);
    const call = callWithTransfer({ status: "consulting" }, "in_progress");
    renderWithProviders(<TransferPanel call={call} agentId={grace.id} agents={agents} />);

    expect(
      screen.getByText(
        "Ada Lovelace is transferring this call to you. Once they complete it, the call is yours.",
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Complete transfer" })).not.toBeInTheDocument();
  });
});
