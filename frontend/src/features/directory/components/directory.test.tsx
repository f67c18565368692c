import { screen, within } from "@testing-library/react";
import { http } from "msw";
import { describe, expect, it } from "vitest";

import { ada, signIn } from "../../../testing/fixtures";
import { errorResponse } from "../../../testing/handlers";
import { renderWithProviders } from "../../../testing/render";
import { server } from "../../../testing/server";
import { Directory } from "./directory";

function renderDirectory() {
  signIn();
  return renderWithProviders(<Directory currentAgentId={ada.id} />);
}

function rows() {
  return within(screen.getByRole("list", { name: "Agents" })).getAllByRole("listitem");
}

describe("Directory", () => {
  it("lists every agent with their presence in words", async () => {
    renderDirectory();

    expect(await screen.findByText("Grace Hopper")).toBeInTheDocument();
    expect(rows().map((row) => row.textContent)).toEqual([
      "Ada Lovelace (you) agent1Available",
      "Grace Hopper agent2Away",
      "Alan Turing agent3On a call",
      "Katherine Johnson agent4Offline",
    ]);
  });

  it("narrows the list to agents whose name or id matches the search", async () => {
    const { user } = renderDirectory();
    await screen.findByText("Grace Hopper");
    const search = screen.getByRole("searchbox", { name: "Search agents" });

    await user.type(search, "GRACE");
    expect(rows()).toHaveLength(1);
    expect(rows()[0]).toHaveTextContent("Grace Hopper");

    await user.clear(search);
    await user.type(search, "agent3");
    expect(rows()).toHaveLength(1);
    expect(rows()[0]).toHaveTextContent("Alan Turing");

    await user.clear(search);
    await user.type(search, "nobody");
    expect(screen.queryByRole("list", { name: "Agents" })).not.toBeInTheDocument();
    expect(screen.getByText("No agent matches “nobody”.")).toBeInTheDocument();
  });

  it("says so when the directory can't be loaded", async () => {
    server.use(
      http.get("/api/agents", () => errorResponse(502, "upstream_error", "The database is unavailable.")),
    );
    renderDirectory();

    expect(await screen.findByText("Couldn't load the directory.")).toBeInTheDocument();
    expect(screen.getByText("The database is unavailable.")).toBeInTheDocument();
  });
});
