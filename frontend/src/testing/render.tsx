import { QueryClient } from "@tanstack/react-query";
import { render, type RenderOptions } from "@testing-library/react";
import userEvent, { type Options as UserEventOptions } from "@testing-library/user-event";
import type { ReactElement } from "react";

import { AppProviders } from "../app/providers";

export function createTestQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
}

interface Options extends Omit<RenderOptions, "wrapper"> {
  /** E.g. `{ advanceTimers: vi.advanceTimersByTime }` under fake timers. */
  userEventOptions?: UserEventOptions;
}

/** Renders inside the app's own providers, with a fresh cache and a user-event session. */
export function renderWithProviders(ui: ReactElement, { userEventOptions, ...options }: Options = {}) {
  const queryClient = createTestQueryClient();
  const user = userEvent.setup(userEventOptions);
  const wrap = (element: ReactElement) => <AppProviders queryClient={queryClient}>{element}</AppProviders>;
  const result = render(wrap(ui), options);
  return {
    ...result,
    /** Renders a new element in the same providers and cache. */
    rerender: (element: ReactElement) => {
      result.rerender(wrap(element));
    },
    user,
    queryClient,
  };
}
