import { sessionStore, type Session } from "../lib/session";
import type { Agent, AppConfig } from "../types/api";

export const ada: Agent = {
  id: "agent1",
  name: "Ada Lovelace",
  availability: "available",
  presence: "available",
  on_call: false,
};
export const grace: Agent = {
  id: "agent2",
  name: "Grace Hopper",
  availability: "away",
  presence: "away",
  on_call: false,
};
export const alan: Agent = {
  id: "agent3",
  name: "Alan Turing",
  availability: "available",
  presence: "busy",
  on_call: true,
};
export const katherine: Agent = {
  id: "agent4",
  name: "Katherine Johnson",
  availability: "available",
  presence: "offline",
  on_call: false,
};
export const directory: Agent[] = [ada, grace, alan, katherine];

export const PASSWORD = "correct horse";
export const config: AppConfig = { voice_mode: "twilio", app_env: "development", version: "0.1.0" };

export function sessionFor(agent: Agent = ada, ttlMs = 60 * 60_000): Session {
  return { token: `token-for-${agent.id}`, expiresAt: new Date(Date.now() + ttlMs).toISOString(), agent };
}

/** Starts a session as if the agent had just logged in. */
export function signIn(agent: Agent = ada): Session {
  const session = sessionFor(agent);
  sessionStore.start(session);
  return session;
}
