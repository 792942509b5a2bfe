// Whether this host can serve the iPhone, and if not, why, in words for the header and the tray.
// Pure: a function of the snapshot's services. A service that `failed` (it gave up restarting, or its
// program or model is missing: the supervisor's lastError says which) cannot serve; starting, waking
// and restarting are transient and do not count (the election treats them the same way).

import type { Snapshot } from '../contract.js';

export function cannotServe(s: Pick<Snapshot, 'services'>): string | null {
  const failed = s.services.filter((svc) => svc.enabled && svc.status === 'failed');
  if (failed.length === 0) return null;
  const parts = failed.map((svc) => {
    if (!svc.lastError) return `${svc.name} failed`;
    const text = firstSentence(svc.lastError);
    // The supervisor's messages usually start with the service's name already.
    return text.toLowerCase().startsWith(svc.name.toLowerCase()) ? text : `${svc.name}: ${text}`;
  });
  return parts.join('; ');
}

function firstSentence(text: string): string {
  const one = text.split('\n')[0]!.trim();
  return one.length > 160 ? `${one.slice(0, 157)}…` : one;
}
