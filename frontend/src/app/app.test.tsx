import { act, screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";

import { sessionStore } from "../lib/session";
import { ada, grace, PASSWORD, sessionFor } from "../testing/fixtures";
import { errorResponse } from "../testing/handlers";
import { renderWithProviders } from "../testing/render";
import { server } from "../testing/server";
import { App } from "./app";

function renderApp() {
  return renderWithProviders(<App />);
}

async function logIn(user: ReturnType<typeof renderApp>["user"], username: string, password: string) {
  await user.type(screen.getByLabelText(/Agent id/), username);
  await user.type(screen.getByLabelText(/Password/), password);
  await user.click(screen.getByRole("button", { name: "Log in" }));
}

afterEach(() => {
  vi.useRealTimers();
});

describe("login flow", () => {
  it("logs in, keeps the session for the tab and opens the console", async () => {
    const { user } = renderApp();

    await logIn(user, "agent1", PASSWORD);

    const header = await screen.findByRole("banner");
    expect(within(header).getByText("Ada Lovelace (agent1)")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Softphone" })).toBeInTheDocument();
    const stored = JSON.parse(window.sessionStorage.getItem("warm-transfer.session") ?? "null") as unknown;
    expect(stored).toMatchObject({ token: "token-for-agent1", agent: { id: "agent1" } });
  });

  it("says so when the agent id and password don't match", async () => {
    const { user } = renderApp();

    await logIn(user, "agent1", "wrong");

    expect(await screen.findByText(/don't match/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Log in" })).toBeInTheDocument();
    expect(window.sessionStorage.length).toBe(0);
  });

  it("explains when the server can't be reached", async () => {
    server.use(http.post("/api/auth/login", () => HttpResponse.error()));
    const { user } = renderApp();

    await logIn(user, "agent1", PASSWORD);

    expect(await screen.findByText("Couldn't log in.")).toBeInTheDocument();
    expect(screen.getByText(/Can't reach the server/)).toBeInTheDocument();
  });

  it("logs out back to the login page and forgets the session", async () => {
    sessionStore.start(sessionFor(ada));
    const { user, queryClient } = renderApp();
    await screen.findByText("Grace Hopper");

    await user.click(screen.getByRole("button", { name: "Log out" }));

    expect(screen.getByRole("button", { name: "Log in" })).toBeInTheDocument();
    expect(screen.queryByText(/session has ended/)).not.toBeInTheDocument();
    expect(window.sessionStorage.length).toBe(0);
    expect(queryClient.getQueryCache().getAll()).toHaveLength(0);
  });

  it("returns to login with a message when the backend refuses the session", async () => {
    sessionStore.start(sessionFor(ada));
    server.use(http.get("/api/agents", () => errorResponse(401, "not_authenticated", "Token expired.")));
    renderApp();

    expect(await screen.findByText(/Your session has ended/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Log in" })).toBeInTheDocument();
  });

  it("returns to login with a message when the session runs out", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    sessionStore.start(sessionFor(grace, 30_000));
    renderApp();
    expect(await screen.findByText("Grace Hopper (agent2)")).toBeInTheDocument();

    await act(() => vi.advanceTimersByTimeAsync(30_000));

    expect(screen.getByText(/Your session has ended/)).toBeInTheDocument();
    expect(sessionStore.get().session).toBeNull();
  });
});
