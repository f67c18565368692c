import { useEffect } from "react";

import { sessionStore, type Session } from "../../../lib/session";

// setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days).
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Ends the session when its token expires, rather than waiting for the next request's 401. */
export function useSessionExpiry(session: Session | null): void {
  useEffect(() => {
    if (session === null) return;
    const delay = Math.max(0, Date.parse(session.expiresAt) - Date.now());
    // A session that long is left to the backend's 401.
    if (delay > MAX_TIMEOUT_MS) return;
    const timer = setTimeout(() => {
      sessionStore.end("expired");
    }, delay);
    return () => {
      clearTimeout(timer);
    };
  }, [session]);
}
