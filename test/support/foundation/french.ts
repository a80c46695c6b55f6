/** What every message shown to a user must be: French, and no raw exception text. */
import { expect } from 'vitest';

const FRENCH = /[éèêàçùâîôû]|synchronisation|BatiSimply|Batigest|tampon/i;
const RAW = /\n\s+at |TypeError|ReferenceError|ZodError|\bundefined\b|\[object Object\]/;

/** Fails unless `message` is a French sentence without stack trace, JS error name or `undefined`. */
export function expectFrench(message: string | null | undefined): void {
  expect(message).toBeTruthy();
  expect(message!).toMatch(FRENCH);
  expect(message!).not.toMatch(RAW);
}
