// Values Vite writes into the bundle at build time (vite.config.ts `define`).

import type { SettingsFieldSchema } from '../../main/core/contract.js';

declare global {
  /** The settings definition, trimmed to what the form reads (main/core/settings/form.ts). */
  const __SETTINGS_SCHEMA__: SettingsFieldSchema;
}

export {};
