import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium, type Browser, type Page } from "playwright-core";

import { FRONTEND_DIR } from "./backend";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const RESULTS_DIR = join(FRONTEND_DIR, "test-results");

/** Debian's Chromium, headless; Playwright gives each launch a fresh temporary user-data-dir. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // The softphone asks for the microphone before it starts: a fake one, granted without a prompt.
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
    ],
  });
}

/** Runs a scenario; if it fails, saves a screenshot of every page to frontend/test-results/. */
export async function withScreenshots(
  name: string,
  pages: () => Record<string, Page | undefined>,
  scenario: () => Promise<void>,
): Promise<void> {
  try {
    await scenario();
  } catch (error) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    for (const [who, page] of Object.entries(pages())) {
      if (page === undefined || page.isClosed()) continue;
      const path = join(RESULTS_DIR, `${slug}-${who}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      console.error(`screenshot: ${path}`);
    }
    throw error;
  }
}
