// What GET /api/setup answers: part of the contract (main/core/contract.ts), which the dashboard imports.

export type { PhoneSeen, SetupView, StepId, StepProgress, StepRecord, StepState, StepView, Tier } from '../contract.js';
