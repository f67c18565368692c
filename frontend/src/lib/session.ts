import type { Agent } from "../types/api";

export interface Session {
  token: string;
  /** ISO date-time after which the backend refuses the token. */
  expiresAt: string;
  agent: Agent;
}

export type SessionEndReason = "logout" | "expired";

export interface SessionState {
  session: Session | null;
  /** Why the last session ended, so the login page can say so. */
  endedBy: SessionEndReason | null;
}

// Function-valued properties rather than methods: `get` and `subscribe` are handed to
// useSyncExternalStore detached from the store.
export interface SessionStore {
  /** The current state; the same object until it changes. */
  get: () => SessionState;
  subscribe: (listener: () => void) => () => void;
  start: (session: Session) => void;
  end: (reason: SessionEndReason) => void;
}

const STORAGE_KEY = "warm-transfer.session";

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.token === "string" &&
    typeof candidate.expiresAt === "string" &&
    typeof candidate.agent === "object" &&
    candidate.agent !== null
  );
}

export function isExpired(session: Session, now = Date.now()): boolean {
  const expiresAt = Date.parse(session.expiresAt);
  return Number.isNaN(expiresAt) || expiresAt <= now;
}

function load(storage: Storage): SessionState {
  let stored: unknown = null;
  try {
    stored = JSON.parse(storage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    // A corrupt entry is treated like no session.
  }
  if (!isSession(stored)) return { session: null, endedBy: null };
  if (isExpired(stored)) {
    storage.removeItem(STORAGE_KEY);
    return { session: null, endedBy: "expired" };
  }
  return { session: stored, endedBy: null };
}

/** sessionStorage keeps the login per tab: a second tab logs in on its own. */
export function createSessionStore(storage: Storage): SessionStore {
  let state = load(storage);
  const listeners = new Set<() => void>();

  function set(next: SessionState): void {
    state = next;
    listeners.forEach((listener) => listener());
  }

  return {
    get: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start(session) {
      storage.setItem(STORAGE_KEY, JSON.stringify(session));
      set({ session, endedBy: null });
    },
    end(reason) {
      storage.removeItem(STORAGE_KEY);
      if (state.session !== null) set({ session: null, endedBy: reason });
    },
  };
}

export const sessionStore = createSessionStore(window.sessionStorage);
