import { sessionStore, type Session } from "../lib/session";
import type { Agent, AppConfig, Call, Leg, Transfer } from "../types/api";

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
export const config: AppConfig = {
  voice_mode: "twilio",
  app_env: "development",
  version: "0.1.0",
  transfer_to_numbers: true,
};

export function sessionFor(agent: Agent = ada, ttlMs = 60 * 60_000): Session {
  return { token: `token-for-${agent.id}`, expiresAt: new Date(Date.now() + ttlMs).toISOString(), agent };
}

/** Starts a session as if the agent had just logged in. */
export function signIn(agent: Agent = ada): Session {
  const session = sessionFor(agent);
  sessionStore.start(session);
  return session;
}

// --- calls ---------------------------------------------------------------------------------------

export const CUSTOMER_NUMBER = "+15551230000";
export const SUPPORT_NUMBER = "+15559870000";

const T0 = "2026-11-25T12:00:00Z";
let nextLegId = 1000;

export function customerLeg(overrides: Partial<Leg> = {}): Leg {
  return {
    id: nextLegId++,
    call_sid: "CAcustomer",
    role: "customer",
    agent_id: null,
    number: CUSTOMER_NUMBER,
    status: "in_progress",
    on_hold: false,
    muted: false,
    created_at: T0,
    joined_at: T0,
    ended_at: null,
    ...overrides,
  };
}

export function agentLeg(agentId: string, overrides: Partial<Leg> = {}): Leg {
  return {
    id: nextLegId++,
    call_sid: `CA${agentId}`,
    role: "agent",
    agent_id: agentId,
    number: null,
    status: "in_progress",
    on_hold: false,
    muted: false,
    created_at: T0,
    joined_at: T0,
    ended_at: null,
    ...overrides,
  };
}

export function externalLeg(number: string, overrides: Partial<Leg> = {}): Leg {
  return { ...agentLeg("", overrides), role: "external", agent_id: null, number, ...overrides };
}

export function makeTransfer(overrides: Partial<Transfer> = {}): Transfer {
  return {
    id: 7,
    call_id: 42,
    from_agent_id: ada.id,
    to_agent_id: grace.id,
    to_number: null,
    mode: "warm",
    status: "dialing",
    hold_customer: true,
    reason: null,
    created_at: T0,
    answered_at: null,
    ended_at: null,
    ...overrides,
  };
}

export function makeCall(overrides: Partial<Call> = {}): Call {
  return {
    id: 42,
    call_sid: "CAcustomer",
    from_number: CUSTOMER_NUMBER,
    to_number: SUPPORT_NUMBER,
    status: "in_progress",
    owner_agent_id: ada.id,
    ended_by: null,
    created_at: T0,
    answered_at: T0,
    ended_at: null,
    legs: [customerLeg(), agentLeg(ada.id)],
    transfers: [],
    handled_by: [ada.id],
    wait_seconds: 0,
    talk_seconds: null,
    ...overrides,
  };
}

/** A new call being offered to `agent`: their leg rings. */
export function offeredCall(agent: Agent = ada, overrides: Partial<Call> = {}): Call {
  return makeCall({
    status: "ringing",
    owner_agent_id: null,
    answered_at: null,
    legs: [customerLeg(), agentLeg(agent.id, { status: "ringing", joined_at: null })],
    handled_by: [],
    ...overrides,
  });
}
