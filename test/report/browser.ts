/**
 * A headless Chromium for the report tests, from the first of: $CHROMIUM_PATH, Debian's /usr/bin/chromium, or the
 * binary that the npm package @sparticuz/chromium carries (unpacked to the OS temp dir on first use), so that
 * `npm ci && npm test` needs nothing beyond the npm registry. Every launch keeps Chromium off the network.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// The same flags for every source (the package's own list adds --disable-web-security and the like, not wanted here).
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumChoice {
  executablePath: string;
  /** Where it came from, for error messages. */
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
}

export async function findChromium(): Promise<ChromiumChoice> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  if (existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: 'system' };
  const packaged = (await import('@sparticuz/chromium')).default;
  return { executablePath: await packaged.executablePath(), source: '@sparticuz/chromium' };
}

export async function launchChromium(): Promise<Browser> {
  const choice = await findChromium();
  try {
    return await chromium.launch({ executablePath: choice.executablePath, args: ARGS });
  } catch (e) {
    throw new Error(
      `could not start Chromium from ${choice.source} (${choice.executablePath}): ${(e as Error).message}`,
    );
  }
}
