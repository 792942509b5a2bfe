// What GET /api/setup answers: the setup view's whole state. Types only (the dashboard imports them).

import type { PhoneSeen, StepRecord } from './state.js';
import type { Tier } from './tier.js';

export type { PhoneSeen, StepRecord, StepState, StepId, StepProgress } from './state.js';
export type { Tier } from './tier.js';

export interface StepView extends StepRecord {
  name: string;
  phases: { key: string; label: string; done: boolean }[];
  /** The service behind the step: its status and health now. */
  service: { status: string; healthy: boolean; lastError: string | null } | null;
  /** Done and its service is running and healthy: the card is green. */
  ready: boolean;
  /** The service's program or files are missing (the supervisor gave up: "… was not found"). */
  missing: boolean;
  /** The tier leaves this step out (VibeVoice on a GPU too small for it next to the model). */
  optional: string | null;
}

export interface SetupView {
  /** Open the setup view: the app's first start, or a service is missing. */
  needed: boolean;
  reason: string | null;
  /** null until the GPU has been looked at once. */
  tier: Tier | null;
  steps: StepView[];
  phone: {
    /** This host's LAN addresses (IPv4), what to type in the app. */
    addresses: string[];
    hostname: string;
    /** A shared mDNS name answered by the serving host (issue: pair), when there is one. */
    sharedName: string | null;
    /** The model to choose in the app. */
    model: string | null;
    seen: PhoneSeen | null;
  };
}
