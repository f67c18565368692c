import { defineConfig } from "vitest/config";

// End-to-end: the real backend (simulated voice mode) and the built console in Debian's Chromium,
// driven by playwright-core. Each file starts its own backend; files run one at a time.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    globalSetup: ["./e2e/support/global-setup.ts"],
  },
});
