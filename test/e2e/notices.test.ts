/**
 * A damaged settings file does not stop the app: the real settings service keeps it aside and loads
 * the defaults, and the page tells the user (notice banner) until they close it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, E2E_TEST_MS, POLL, startStack, type Stack } from './harness.js';

let rendererDir: string;
let stack: Stack;

beforeAll(async () => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-renderer-'));
  await buildRenderer(rendererDir);
  stack = await startStack(rendererDir, {
    prepare: (dataDir) => fs.writeFileSync(path.join(dataDir, 'settings.json'), '{"version": 1, "sqlServer": {"server": "SRV', 'utf8'),
  });
}, E2E_TEST_MS);

afterAll(async () => {
  await stack?.close();
  if (rendererDir) fs.rmSync(rendererDir, { recursive: true, force: true });
});

describe('notices from the main process', { timeout: E2E_TEST_MS }, () => {
  it('a corrupt settings file is announced on the first screen and can be dismissed', async () => {
    const { page } = stack;
    await page.getByTestId('wizard').waitFor();
    const notices = page.getByTestId('notices');
    await notices.waitFor();
    const text = (await notices.textContent()) ?? '';
    expect(text.length).toBeGreaterThan(20);
    expect(stack.app.settings.notices().length).toBeGreaterThan(0);
    await stack.screenshot('notice-corrupt-settings');
    await notices.getByRole('button', { name: 'Fermer' }).first().click();
    await expect.poll(() => page.getByTestId('notices').count(), POLL).toBe(0);
    // Dismissed in the main process too: a reload does not show it again.
    await expect.poll(() => stack.app.settings.notices().length, POLL).toBe(0);
    await page.reload();
    await page.getByTestId('wizard').waitFor();
    expect(await page.getByTestId('notices').count()).toBe(0);
  });
});
