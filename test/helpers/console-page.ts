import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where the browser tests put their screenshots (gitignored); look at them after a run. */
export const SHOTS = path.join(process.cwd(), 'test', 'tmp', 'screenshots');

/** Debian's chromium, headless, as test/browser-upload.test.ts drives it. */
export async function launchChromium(): Promise<Browser> {
  await fs.mkdir(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      // Headless chromium has no audio device; a muted video plays either way.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core injected into the page: the serious and critical violations (WCAG 2.x A/AA and best practices). */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the console's Content-Security-Policy does not govern (a
  // <script> tag, as addScriptTag makes, would be refused like any other inline script).
  await page.evaluate(await fs.readFile(axeSource, 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** A screenshot of the page as it is, checked for accessibility first. */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
}

/**
 * Collects into `refused` what the browser refuses under the page's Content-Security-Policy, as Chromium reports it
 * on the console (so it counts from the first document on, before any script of ours could listen).
 */
export function watchPolicyViolations(page: Page, refused: string[]): void {
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
}
