import { screen, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";

import type { Agent } from "../../../types/api";
import { signIn } from "../../../testing/fixtures";
import { errorResponse } from "../../../testing/handlers";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import { AvailabilityToggle } from "./availability-toggle";

function renderToggle(online: boolean, onChange = vi.fn()) {
  signIn();
  return { ...renderWithProviders(<AvailabilityToggle online={online} onChange={onChange} />), onChange };
}

describe("AvailabilityToggle", () => {
  it("shows offline, and can't go available, while the softphone isn't registered", async () => {
    renderToggle(false);

    expect(await screen.findByRole("radio", { name: "Available" })).toBeDisabled();
    expect(screen.getByText("Offline")).toBeInTheDocument();
    expect(screen.getByText("Start the softphone to take calls.")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: "Away" })).toBeEnabled();
  });

  it("goes away and back through the backend", async () => {
    const sent: unknown[] = [];
    server.events.on("request:start", ({ request }) => {
      if (request.method === "PUT")
        void request
          .clone()
          .json()
          .then((body) => sent.push(body));
    });
    const { user, onChange } = renderToggle(true);
    expect(await screen.findByRole("radio", { name: "Available" })).toBeChecked();
    // The badge and the switch's label.
    expect(screen.getAllByText("Available")).toHaveLength(2);

    await user.click(screen.getByRole("radio", { name: "Away" }));

    await waitFor(() => expect(screen.getByRole("radio", { name: "Away" })).toBeChecked());
    expect(screen.getAllByText("Away")).toHaveLength(2);
    expect(screen.getAllByText("Available")).toHaveLength(1);
    expect(sent).toEqual([{ availability: "away" }]);
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining<Partial<Agent>>({ availability: "away" }));
    server.events.removeAllListeners();
  });

  it("says so when the change is refused", async () => {
    server.use(
      http.put("/api/agents/me/availability", () => errorResponse(409, "on_call", "Finish your call first.")),
      http.get("/api/me", () =>
        HttpResponse.json({
          id: "agent1",
          name: "Ada",
          availability: "away",
          presence: "away",
          on_call: true,
        }),
      ),
    );
    const { user } = renderToggle(true);

    await user.click(await screen.findByRole("radio", { name: "Available" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Couldn't change your status: Finish your call first.",
    );
    expect(screen.getByRole("radio", { name: "Away" })).toBeChecked();
  });
});
