import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { LoginPage, useSession, useSessionExpiry } from "../features/auth";
import { Console } from "./console";

export function App() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  useSessionExpiry(session);

  useEffect(() => {
    // Nothing cached for one agent may show to the next one who logs in.
    if (session === null) queryClient.clear();
  }, [session, queryClient]);

  // Keyed by agent, so a different agent never inherits the previous one's softphone.
  return session === null ? <LoginPage /> : <Console key={session.agent.id} session={session} />;
}
