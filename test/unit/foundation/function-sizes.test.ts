/** No function of src/main/services is longer than about 80 lines (issue 14): small units, one job each. */
import { describe, expect, it } from 'vitest';
import { functionSizes } from '../../../scripts/function-sizes.js';

const MAX_LINES = 80;

describe('function sizes', () => {
  it(`every function of src/main/services has at most ${MAX_LINES} lines`, () => {
    const long = functionSizes('src/main/services').filter((f) => f.lines > MAX_LINES);
    expect(long.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lignes)`)).toEqual([]);
  });

  it('the measure does see long functions (the TDS simulator has some)', () => {
    expect(functionSizes('test/support/tds').some((f) => f.lines > MAX_LINES)).toBe(true);
  });
});
