import { apiClient } from "../../../lib/api-client";
import type { VoiceToken } from "../../../types/api";

export function getVoiceToken(): Promise<VoiceToken> {
  return apiClient.post<VoiceToken>("/api/voice/token");
}
