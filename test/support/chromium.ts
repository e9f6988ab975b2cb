import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The system's Chromium (CI installs it); the browser tests skip, saying so, where there is none. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Warns once per test file that its browser test is skipped, and how to run it. */
export function warnIfNoChromium(what: string): void {
  if (!hasChromium) console.warn(`no Chromium at ${CHROMIUM}: skipping ${what} (apt-get install chromium)`);
}

/** Headless Chromium with nothing running in the background that could slow or disturb a test. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
