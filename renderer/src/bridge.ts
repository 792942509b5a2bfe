// The preload's API (present only inside the Electron window). Its type comes from the preload
// itself, so the two cannot drift apart.

import type { UnamentisApi } from '../../preload/preload.js';

export type HostBridge = UnamentisApi;

declare global {
  interface Window {
    unamentis?: HostBridge;
  }
}

export const bridge: HostBridge | undefined =
  typeof window !== 'undefined' ? window.unamentis : undefined;
