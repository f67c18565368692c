import { apiRequest } from "../../lib/api-client";
import { sessionStore } from "../../lib/session";

/**
 * Voids the session's tokens on the server (on every device) and leaves at once: the request
 * carries the token it was sent with, and a failure changes nothing here.
 */
export function logout(): void {
  apiRequest("/api/auth/logout", { method: "POST" }).catch(() => undefined);
  sessionStore.end("logout");
}
