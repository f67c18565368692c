import { sessionStore } from "../../lib/session";

export function logout(): void {
  sessionStore.end("logout");
}
