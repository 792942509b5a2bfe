// The supervisor's public face lives in the kernel (main/core/context.ts), so that hibernation, the
// GPU sampler and setup can use it without importing this folder. Re-exported for the API layer.

export type { Supervisor } from '../context.js';
