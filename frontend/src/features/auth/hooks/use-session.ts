import { useSyncExternalStore } from "react";

import { sessionStore, type SessionState } from "../../../lib/session";

export function useSession(): SessionState {
  return useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
}
