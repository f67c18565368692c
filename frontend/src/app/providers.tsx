import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { Theme } from "@twilio-paste/core/theme";
import type { ReactNode } from "react";

export function AppProviders({ queryClient, children }: { queryClient: QueryClient; children: ReactNode }) {
  return (
    <QueryClientProvider client={queryClient}>
      <Theme.Provider theme="default">{children}</Theme.Provider>
    </QueryClientProvider>
  );
}
