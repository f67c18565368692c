import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { signIn } from "../testing/fixtures";
import { errorResponse } from "../testing/handlers";
import { server } from "../testing/server";
import { ApiError, apiClient, apiRequest } from "./api-client";
import { sessionStore } from "./session";

describe("apiRequest", () => {
  it("sends the session's bearer token and parses the JSON answer", async () => {
    const session = signIn();
    let authorization: string | null = null;
    server.use(
      http.get("/api/thing", ({ request }) => {
        authorization = request.headers.get("Authorization");
        return HttpResponse.json({ ok: true });
      }),
    );

    await expect(apiClient.get("/api/thing")).resolves.toEqual({ ok: true });
    expect(authorization).toBe(`Bearer ${session.token}`);
  });

  it("sends no Authorization header without a session", async () => {
    let sent = true;
    server.use(
      http.get("/api/config", ({ request }) => {
        sent = request.headers.has("Authorization");
        return HttpResponse.json({});
      }),
    );

    await apiClient.get("/api/config");
    expect(sent).toBe(false);
  });

  it("sends JSON bodies with their content type", async () => {
    signIn();
    let received: { contentType: string | null; body: unknown } | null = null;
    server.use(
      http.put("/api/thing", async ({ request }) => {
        received = { contentType: request.headers.get("Content-Type"), body: await request.json() };
        return HttpResponse.json({});
      }),
    );

    await apiClient.put("/api/thing", { availability: "away" });
    expect(received).toEqual({ contentType: "application/json", body: { availability: "away" } });
  });

  it("sends forms url-encoded", async () => {
    let received: { contentType: string | null; body: string } | null = null;
    server.use(
      http.post("/api/form", async ({ request }) => {
        received = { contentType: request.headers.get("Content-Type"), body: await request.text() };
        return HttpResponse.json({});
      }),
    );

    await apiRequest("/api/form", { method: "POST", form: { username: "agent1", password: "p&ss word" } });
    expect(received).toEqual({
      contentType: expect.stringContaining("application/x-www-form-urlencoded") as string,
      body: "username=agent1&password=p%26ss+word",
    });
  });

  it("raises ApiError with the backend's error code and detail", async () => {
    signIn();
    server.use(
      http.post("/api/calls/1/transfers", () =>
        errorResponse(409, "transfer_in_progress", "Call 1 already has a transfer."),
      ),
    );

    const error = await apiClient
      .post("/api/calls/1/transfers", { to_agent_id: "agent2" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 409,
      error: "transfer_in_progress",
      detail: "Call 1 already has a transfer.",
    });
  });

  it("raises ApiError for an error that isn't in the backend's shape", async () => {
    server.use(
      http.get(
        "/api/config",
        () => new HttpResponse("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" }),
      ),
    );

    await expect(apiClient.get("/api/config")).rejects.toMatchObject({
      status: 502,
      error: "http_error",
      detail: "The server answered 502 Bad Gateway",
    });
  });

  it("raises a network_error ApiError when the server can't be reached", async () => {
    server.use(http.get("/api/config", () => HttpResponse.error()));

    await expect(apiClient.get("/api/config")).rejects.toMatchObject({ status: 0, error: "network_error" });
  });

  it("ends the session on a 401 so the console goes back to login", async () => {
    signIn();
    server.use(http.get("/api/me", () => errorResponse(401, "not_authenticated", "Token expired.")));

    await expect(apiClient.get("/api/me")).rejects.toMatchObject({ status: 401 });
    expect(sessionStore.get()).toEqual({ session: null, endedBy: "expired" });
    expect(window.sessionStorage.length).toBe(0);
  });

  it("keeps a newer session when a 401 answers a request the old one sent", async () => {
    signIn();
    let release: () => void = () => undefined;
    const requested = new Promise<void>((markRequested) => {
      server.use(
        http.get("/api/me", async () => {
          markRequested();
          await new Promise<void>((resolve) => (release = resolve));
          return errorResponse(401, "not_authenticated", "Token expired.");
        }),
      );
    });

    const pending = apiClient.get("/api/me").catch(() => undefined);
    await requested;
    const newer = { ...sessionStore.get().session!, token: "a-newer-token" };
    sessionStore.start(newer);
    release();
    await pending;

    expect(sessionStore.get().session).toEqual(newer);
  });

  it("leaves the login page alone when the login itself is refused", async () => {
    await expect(
      apiRequest("/api/auth/login", { method: "POST", form: { username: "agent1", password: "wrong" } }),
    ).rejects.toMatchObject({ status: 401, error: "invalid_credentials" });
    expect(sessionStore.get().endedBy).toBe("logout");
  });
});
