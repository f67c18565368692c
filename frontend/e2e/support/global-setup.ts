import { existsSync } from "node:fs";

import { CHROMIUM } from "./browser";

/** Fails fast, with the fix, when Chromium isn't installed. */
export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
}
