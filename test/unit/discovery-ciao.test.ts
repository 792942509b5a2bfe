// Loading the mDNS advertiser (and with it @homebridge/ciao, which registers source-map-support) must
// leave the process's stack formatter alone: source-map-support's costs an allocation-heavy source-map
// lookup for every error stack read anywhere in the app.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/headless.js';

describe('ciao import', () => {
  it('keeps Error.prepareStackTrace as it was', async () => {
    const before = Error.prepareStackTrace;
    const { ciaoAdvertiser } = await import('../../main/core/discovery/advertiser.js');
    expect(typeof ciaoAdvertiser).toBe('function');
    expect(Error.prepareStackTrace).toBe(before);
  });

  it('would otherwise be replaced: ciao on its own does register source-map-support', () => {
    const script =
      "const b = Error.prepareStackTrace; await import('@homebridge/ciao'); console.log(Error.prepareStackTrace === b ? 'kept' : 'replaced');";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('replaced');
  });
});
