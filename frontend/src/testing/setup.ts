import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterAll, afterEach, beforeAll, beforeEach, vi } from "vitest";

import { sessionStore } from "../lib/session";
import { FakeEventSource } from "./fake-event-source";
import { server } from "./server";

beforeAll(() => {
  server.listen({ onUnhandledRequest: "error" });
});

beforeEach(() => {
  vi.stubGlobal("EventSource", FakeEventSource);
});

afterEach(() => {
  cleanup();
  FakeEventSource.reset();
  vi.unstubAllGlobals();
  server.resetHandlers();
  sessionStore.end("logout");
  window.sessionStorage.clear();
});

afterAll(() => {
  server.close();
});
