import { env } from "../config/env";
import { sessionStore } from "./session";

/** A failed request, in the backend's error shape `{"error": code, "detail": message}`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  /** Stable machine-readable code, e.g. `invalid_credentials`; `network_error` when unreachable. */
  readonly error: string;
  /** Human-readable explanation, fit to show. */
  readonly detail: string;

  constructor(status: number, error: string, detail: string) {
    super(detail);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  /** Sent as a JSON body. */
  json?: unknown;
  /** Sent as an application/x-www-form-urlencoded body (the OAuth2 login form). */
  form?: Record<string, string>;
  signal?: AbortSignal;
}

async function toApiError(response: Response): Promise<ApiError> {
  const fallback = `The server answered ${String(response.status)} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { error?: unknown; detail?: unknown };
    return new ApiError(
      response.status,
      typeof body.error === "string" ? body.error : "http_error",
      typeof body.detail === "string" ? body.detail : fallback,
    );
  } catch {
    // Not JSON: a proxy or gateway answered instead of the backend.
    return new ApiError(response.status, "http_error", fallback);
  }
}

/**
 * The one way the console talks to the backend: adds the session's bearer token, sends and
 * parses JSON, and turns every failure into an ApiError. A 401 on an authenticated request
 * ends the session, which takes the agent back to the login page.
 */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const token = sessionStore.get().session?.token;
  const headers = new Headers({ Accept: "application/json" });
  if (token !== undefined) headers.set("Authorization", `Bearer ${token}`);

  let body: BodyInit | undefined;
  if (options.form !== undefined) {
    body = new URLSearchParams(options.form);
  } else if (options.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(options.json);
  }

  let response: Response;
  try {
    response = await fetch(`${env.apiBaseUrl}${path}`, {
      method: options.method ?? "GET",
      headers,
      body,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, "network_error", "Can't reach the server. Check your connection and try again.");
  }

  if (!response.ok) {
    // Only the session that sent the request ends: a late 401 must not log out a newer login.
    if (response.status === 401 && token !== undefined && sessionStore.get().session?.token === token) {
      sessionStore.end("expired");
    }
    throw await toApiError(response);
  }
  if (response.status === 204) return undefined as T;
  // The types come from the backend's OpenAPI contract; the body is trusted to match them.
  return (await response.json()) as T;
}

export const apiClient = {
  get: <T>(path: string, signal?: AbortSignal) => apiRequest<T>(path, { signal }),
  post: <T>(path: string, json?: unknown) => apiRequest<T>(path, { method: "POST", json }),
  put: <T>(path: string, json: unknown) => apiRequest<T>(path, { method: "PUT", json }),
};
