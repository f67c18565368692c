import { apiClient } from "../../../lib/api-client";
import type { Ticket } from "../../../types/api";

/** EventSource can't send the bearer token: trade it for a one-minute ticket to open the stream. */
export function createTicket(): Promise<Ticket> {
  return apiClient.post<Ticket>("/api/events/ticket");
}
