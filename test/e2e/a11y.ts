/**
 * Accessibility and review helpers for the e2e tests: axe-core injected into the page (from
 * node_modules/axe-core/axe.min.js) and run on the current state; screenshots of a state at 1280×800
 * and 1920×1080 into test-output/screenshots/ (gitignored) for a person to review.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, SCREENSHOT_DIR } from './harness.js';

const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The axe-core violations (WCAG 2.x A and AA, best practices) of the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  // Evaluated through the DevTools protocol: the page's own CSP (script-src 'self') stays as shipped.
  if (!loaded) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const res = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
}

/** Every page state checked, with its violations (the test asserts none, and names them when some). */
export const checkedStates: { name: string; violations: AxeViolation[] }[] = [];

/** Runs axe on the current state and records it under `name`. */
export async function checkA11y(page: Page, name: string): Promise<AxeViolation[]> {
  const violations = await axeViolations(page);
  checkedStates.push({ name, violations });
  return violations;
}

/** Screenshots the current state at both review sizes; returns the files written. */
export async function screenshotBoth(page: Page, name: string): Promise<string[]> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.locator('.toasts button').evaluateAll((buttons) => buttons.forEach((b) => (b as HTMLButtonElement).click()));
  const files: string[] = [];
  for (const size of [
    { width: 1280, height: 800 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    const file = path.join(SCREENSHOT_DIR, `${name}-${size.width}x${size.height}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize(before);
  return files;
}

/** axe on the state and both screenshots: the one call each state of a page gets. */
export async function reviewState(page: Page, name: string): Promise<AxeViolation[]> {
  const v = await checkA11y(page, name);
  await screenshotBoth(page, name);
  return v;
}
