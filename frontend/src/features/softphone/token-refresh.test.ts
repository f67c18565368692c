import { describe, expect, it } from "vitest";

import { refreshDelayMs } from "./token-refresh";

const MINUTE = 60_000;

describe("refreshDelayMs", () => {
  it("renews a one-hour token five minutes before it expires", () => {
    expect(refreshDelayMs(60 * MINUTE, 0)).toBe(55 * MINUTE);
  });

  it("renews a short-lived token halfway, leaving time for a retry", () => {
    expect(refreshDelayMs(2 * MINUTE, 0)).toBe(MINUTE);
  });

  it("renews at once a token that has expired or has no valid expiry", () => {
    expect(refreshDelayMs(1_000, 5_000)).toBe(0);
    expect(refreshDelayMs(Number.NaN, 0)).toBe(0);
  });
});
