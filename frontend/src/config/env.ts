export interface Env {
  /** Prefix for every backend request: "" (same origin, the default) or an absolute http(s) origin. */
  readonly apiBaseUrl: string;
}

export function parseEnv(raw: ImportMetaEnv): Env {
  const apiBaseUrl = (raw.VITE_API_BASE_URL ?? "").trim().replace(/\/+$/, "");
  if (apiBaseUrl !== "" && !/^https?:\/\/[^/]+$/.test(apiBaseUrl)) {
    throw new Error(
      `VITE_API_BASE_URL must be an http(s) origin such as https://api.example.com, got "${apiBaseUrl}"`,
    );
  }
  return { apiBaseUrl };
}

// Read once at start-up so a misconfigured build fails loudly instead of on the first request.
export const env = parseEnv(import.meta.env);
