// Hibernation: five idle states that unload and stop, and wake on demand (CONTRACT §4).
// machine.ts decides (pure), runner.ts acts, services.ts is what it acts on, signals.ts reads use.

export { createHibernation, Hibernation } from './runner.js';
export type { HibernationControl, HibernationOptions } from './runner.js';
export { supervisedServices } from './services.js';
export type { HibernationServices } from './services.js';
