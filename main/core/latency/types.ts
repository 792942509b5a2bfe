// What the latency check reports: part of the contract (main/core/contract.ts), shared with the dashboard.

export type { LatencyReport, LatencyResult } from '../contract.js';
