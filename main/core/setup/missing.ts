// Is a service missing (not installed), as opposed to broken? Read from the supervisor's own
// words for a missing program, script, Python module or voice. Pure: the notifications and the
// setup view both use it.

import type { ServiceEntry } from '../contract.js';

/** "… was not found", "… is not installed …", "… has no module …", "… could not find the voice …". */
export const MISSING = /was not found|is not installed|has no module|could not find the voice/i;

export function serviceMissing(e: ServiceEntry | undefined): boolean {
  return !!e && e.enabled && e.status === 'failed' && MISSING.test(e.lastError ?? '');
}
