// vitest globalSetup: every temp folder of a test run goes under one folder, removed at the end.
// Tests, helpers, fake servers and Chromium all use os.tmpdir() (TMPDIR), so none of them has to
// remember to clean up: a run used to leave ~65 folders in /tmp.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unamentis-test-run-'));
  process.env.TMPDIR = root; // inherited by the test workers and everything they spawn
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    fs.rmSync(root, { recursive: true, force: true });
  };
}
