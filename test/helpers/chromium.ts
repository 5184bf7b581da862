import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core. Never a downloaded browser:
 * CI installs the apt package (see .ci/run), so a missing binary is an error.
 */
export const CHROMIUM_PATH = process.env.FORD_CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags for a closed network: no background connections to Google's hosts, no sandbox as root. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function assertChromiumInstalled(executable: string = CHROMIUM_PATH): void {
  if (!fs.existsSync(executable)) {
    throw new Error(`Chromium not found at ${executable}: install Debian's package with \`apt-get install chromium\` (.ci/run does this in CI); this test never downloads a browser.`);
  }
}

/**
 * Launches headless Chromium. playwright-core gives every launch a fresh, empty
 * profile of its own (a temporary --user-data-dir it removes on close; it
 * refuses the flag in args).
 */
export async function launchChromium(executable: string = CHROMIUM_PATH): Promise<Browser> {
  assertChromiumInstalled(executable);
  return chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
}
