import { http, HttpResponse, type DefaultBodyType, type HttpResponseResolver, type PathParams } from "msw";

import { sessionStore } from "../lib/session";
import type {
  Agent,
  AvailabilityRequest,
  CallPage,
  ErrorBody,
  LoginResponse,
  Ticket,
  VoiceToken,
} from "../types/api";
import { ada, config, directory, PASSWORD } from "./fixtures";

/** The backend's error shape. A plain Response, so a handler may answer either this or its JSON. */
export function errorResponse(status: number, error: string, detail: string): Response {
  return HttpResponse.json<ErrorBody>({ error, detail }, { status });
}

/** Like the backend: refuses a request without the current session's bearer token. */
function authenticated<Body extends DefaultBodyType>(
  resolver: HttpResponseResolver<PathParams, Body>,
): HttpResponseResolver<PathParams, Body> {
  return (info) => {
    const token = sessionStore.get().session?.token;
    if (token === undefined || info.request.headers.get("Authorization") !== `Bearer ${token}`) {
      return errorResponse(401, "not_authenticated", "Log in first.");
    }
    return resolver(info);
  };
}

let voiceTokens = 0;

export function voiceToken(ttlMs = 60 * 60_000): VoiceToken {
  voiceTokens += 1;
  return {
    token: `voice-token-${String(voiceTokens)}`,
    identity: ada.id,
    expires_at: new Date(Date.now() + ttlMs).toISOString(),
  };
}

let tickets = 0;

export const handlers = [
  http.post("/api/auth/login", async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    const agent = directory.find((candidate) => candidate.id === form.get("username"));
    if (agent === undefined || form.get("password") !== PASSWORD) {
      return errorResponse(401, "invalid_credentials", "Wrong agent id or password.");
    }
    return HttpResponse.json<LoginResponse>({
      access_token: `token-for-${agent.id}`,
      token_type: "bearer",
      expires_at: new Date(Date.now() + 60 * 60_000).toISOString(),
      agent,
    });
  }),
  // Answered after the console has already dropped the session, so not `authenticated`.
  http.post("/api/auth/logout", () => new HttpResponse(null, { status: 204 })),
  http.get("/api/config", () => HttpResponse.json(config)),
  http.get(
    "/api/me",
    authenticated(() => HttpResponse.json(sessionStore.get().session?.agent)),
  ),
  http.get(
    "/api/agents",
    authenticated(() => HttpResponse.json(directory)),
  ),
  http.put(
    "/api/agents/me/availability",
    authenticated(async ({ request }) => {
      const { availability } = (await request.json()) as AvailabilityRequest;
      const me = sessionStore.get().session?.agent ?? ada;
      return HttpResponse.json<Agent>({ ...me, availability, presence: availability });
    }),
  ),
  http.post(
    "/api/voice/token",
    authenticated(() => HttpResponse.json(voiceToken())),
  ),
  http.post(
    "/api/events/ticket",
    authenticated(() => {
      tickets += 1;
      return HttpResponse.json<Ticket>({ ticket: `ticket-${String(tickets)}`, expires_in: 60 });
    }),
  ),
  http.get(
    "/api/calls",
    authenticated(() => HttpResponse.json<CallPage>({ items: [], next_cursor: null })),
  ),
];
