import { useMutation, useQueryClient } from "@tanstack/react-query";

import { apiClient } from "../../../lib/api-client";
import type { Agent, Availability, AvailabilityRequest } from "../../../types/api";
import { meQueryOptions } from "./get-me";

export function setAvailability(availability: Availability): Promise<Agent> {
  const body: AvailabilityRequest = { availability };
  return apiClient.put<Agent>("/api/agents/me/availability", body);
}

export function useSetAvailability({ onSuccess }: { onSuccess?: (agent: Agent) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: setAvailability,
    onSuccess: (agent) => {
      queryClient.setQueryData(meQueryOptions.queryKey, agent);
      onSuccess?.(agent);
    },
  });
}
