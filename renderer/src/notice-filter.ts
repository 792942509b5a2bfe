// Which notices a page shows above its content.

import type { Snapshot } from '../../main/core/contract.js';

/** On the Services page a service's failure is in its row (Last error): not again as a notice. */
export function withoutServiceErrors(
  s: Pick<Snapshot, 'notices' | 'services'>,
): Snapshot['notices'] {
  const shown = new Set(
    s.services.filter((x) => x.lastError).map((x) => `${x.name}: ${x.lastError}`),
  );
  return s.notices.filter((n) => !(n.code === 'service_failed' && shown.has(n.message)));
}
