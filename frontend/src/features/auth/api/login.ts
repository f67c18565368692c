import { useMutation } from "@tanstack/react-query";

import { apiRequest } from "../../../lib/api-client";
import { sessionStore } from "../../../lib/session";
import type { LoginResponse } from "../../../types/api";

export interface Credentials {
  username: string;
  password: string;
}

/** OAuth2 password flow: the backend takes a form, not JSON. */
export function login(credentials: Credentials): Promise<LoginResponse> {
  return apiRequest<LoginResponse>("/api/auth/login", { method: "POST", form: { ...credentials } });
}

export function useLogin() {
  return useMutation({
    mutationFn: login,
    onSuccess: (response) => {
      sessionStore.start({
        token: response.access_token,
        expiresAt: response.expires_at,
        agent: response.agent,
      });
    },
  });
}
