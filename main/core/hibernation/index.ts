// Hibernation: five idle states that unload and stop, and wake on demand (CONTRACT §4).
// machine.ts decides (pure), runner.ts acts, services.ts is what it acts on, signals.ts reads use.

export { createHibernation, Hibernation, parseLevel, USER_ACTIVITY_COMMANDS } from './runner.js';
export type { HibernationControl, HibernationDeps, HibernationOptions, Transition } from './runner.js';
export { noServices, supervisedServices, MODEL_SERVICES } from './services.js';
export type { HibernationServices, PreloadOutcome } from './services.js';
export { step, initialIdle, nextStep, levelFor, LEVELS } from './machine.js';
export type { Idle, IdleConfig, IdleEvent, Effect, ServicePlan, Thresholds, Level } from './machine.js';
