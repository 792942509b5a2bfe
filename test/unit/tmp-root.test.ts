import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the test run temp folder (test/helpers/tmp-root.ts)', () => {
  it('puts os.tmpdir() under one folder per run, which the run removes at its end', () => {
    expect(path.basename(os.tmpdir())).toMatch(/^unamentis-test-run-/);
  });
});
