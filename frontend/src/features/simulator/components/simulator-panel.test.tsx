import { screen, waitFor, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { config, signIn } from "../../../testing/fixtures";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import type { CustomerCall } from "../../../types/api";
import { SimulatorPanel } from "./simulator-panel";

function customer(sid: string, from: string, hearing: CustomerCall["hearing"]): CustomerCall {
  return {
    call_sid: sid,
    from,
    to: "+15550000000",
    status: hearing === "ended" ? "completed" : "in-progress",
    hearing,
    audio: null,
    conference: null,
    heard: [],
    created_at: new Date().toISOString(),
    ended_at: null,
  };
}

/** The simulator's customers, as the backend keeps them; records who asked with which token. */
function simulator() {
  const calls: CustomerCall[] = [];
  const requests: string[] = [];
  server.use(
    http.get("/api/config", () => HttpResponse.json({ ...config, voice_mode: "simulated" })),
    http.get("/simulator/customers/calls", ({ request }) => {
      requests.push(`GET ${request.headers.get("Authorization") ?? ""}`);
      return HttpResponse.json(calls);
    }),
    http.post("/simulator/customers/calls", async ({ request }) => {
      const body = (await request.json()) as { from: string };
      requests.push(`POST ${JSON.stringify(body)} ${request.headers.get("Authorization") ?? ""}`);
      const call = customer(`CA${String(calls.length + 1)}`, body.from, "waiting");
      calls.unshift(call);
      return HttpResponse.json(call, { status: 201 });
    }),
    http.post("/simulator/customers/calls/:sid/hangup", ({ params }) => {
      requests.push(`HANGUP ${String(params.sid)}`);
      const index = calls.findIndex((call) => call.call_sid === params.sid);
      calls[index] = { ...calls[index]!, hearing: "ended", status: "completed" };
      return HttpResponse.json(calls[index]);
    }),
  );
  return { calls, requests };
}

describe("SimulatorPanel", () => {
  it("shows nothing unless the server runs in simulated mode", async () => {
    signIn();
    const { queryClient } = renderWithProviders(<SimulatorPanel />);

    await waitFor(() => {
      expect(queryClient.getQueryData(["config"])).toBeDefined();
    });
    expect(screen.queryByText(/Simulator/)).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Simulate a customer call" })).not.toBeInTheDocument();
  });

  it("starts a customer call, lists what customers hear and hangs one up", async () => {
    const session = signIn();
    const { requests } = simulator();
    const { user } = renderWithProviders(<SimulatorPanel />);

    expect(await screen.findByText("No simulated customers yet.")).toBeInTheDocument();
    const from = screen.getByLabelText("From");
    expect(from).toHaveValue("+15551230000");
    await user.clear(from);
    await user.type(from, "+15559870000");
    await user.click(screen.getByRole("button", { name: "Simulate a customer call" }));

    const list = await screen.findByRole("list", { name: "Simulated customers" });
    const row = within(list).getByRole("listitem");
    expect(row).toHaveTextContent("+15559870000");
    expect(row).toHaveTextContent("waiting music");
    expect(requests).toContain(`POST {"from":"+15559870000"} Bearer ${session.token}`);

    await user.click(within(list).getByRole("button", { name: /^Hang up\s*\+15559870000$/ }));
    expect(await within(list).findByText("ended")).toBeInTheDocument();
    expect(requests).toContain("HANGUP CA1");
    expect(within(list).queryByRole("button", { name: /Hang up/ })).not.toBeInTheDocument();
  });

  it("refuses a number that isn't E.164", async () => {
    signIn();
    simulator();
    const { user } = renderWithProviders(<SimulatorPanel />);

    const from = await screen.findByLabelText("From");
    await user.clear(from);
    await user.type(from, "12345");

    expect(screen.getByText("Enter a number like +15551230000.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Simulate a customer call" })).toBeDisabled();
  });
});
