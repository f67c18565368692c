import { queryOptions } from "@tanstack/react-query";

import type { AppConfig } from "../types/api";
import { apiClient } from "./api-client";

/** The server's public configuration (voice mode, whether numbers may be dialed): read once. */
export const configQueryOptions = queryOptions({
  queryKey: ["config"],
  queryFn: ({ signal }) => apiClient.get<AppConfig>("/api/config", signal),
  staleTime: Infinity,
});
