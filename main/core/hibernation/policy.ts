// Settings + the supervisor's service list → the machine's config. Pure.

import { ANSWERING_STATUSES, OURS_UP_STATUSES, type ServiceEntry } from '../contract.js';
import type { HibernationPolicy, Settings } from '../settings/schema.js';
import type { IdleConfig, Level, ServicePlan } from './machine.js';

/** A service with no policy entry is stopped when dormant and never unloaded. */
const DEFAULT_POLICY: Required<HibernationPolicy> = { stopAt: 'dormant', unloadAt: 'never' };

export function planFor(
  entry: ServiceEntry,
  policy: HibernationPolicy | undefined,
  hasModels: boolean,
): ServicePlan {
  const stopAt = policy?.stopAt ?? DEFAULT_POLICY.stopAt;
  const unloadAt = policy?.unloadAt ?? DEFAULT_POLICY.unloadAt;
  return {
    id: entry.id,
    stopAt: stopAt === 'never' ? null : (stopAt as Level),
    unloadAt: !hasModels || unloadAt === 'never' ? null : (unloadAt as Level),
    models: hasModels,
    canStop: OURS_UP_STATUSES.has(entry.status),
    reachable: ANSWERING_STATUSES.has(entry.status),
  };
}

export function idleConfig(
  settings: Pick<Settings, 'hibernation'>,
  services: ServiceEntry[],
  hasModels: (id: string) => boolean,
): IdleConfig {
  const h = settings.hibernation;
  return {
    enabled: h.enabled,
    preventSleep: h.preventSleep,
    after: {
      warm: h.warmAfterSeconds * 1000,
      cool: h.coolAfterSeconds * 1000,
      cold: h.coldAfterSeconds * 1000,
      dormant: h.dormantAfterSeconds * 1000,
    },
    // Disabled services are not hibernation's business (and are never started by a wake).
    services: services
      .filter((s) => s.enabled)
      .map((s) => planFor(s, h.policy?.[s.id], hasModels(s.id))),
  };
}
