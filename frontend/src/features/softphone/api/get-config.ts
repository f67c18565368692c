import { apiClient } from "../../../lib/api-client";
import type { AppConfig } from "../../../types/api";

export function getConfig(): Promise<AppConfig> {
  return apiClient.get<AppConfig>("/api/config");
}
