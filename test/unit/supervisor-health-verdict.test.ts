// The supervisor's health-and-hang verdict, as a table: one health check's result, the state
// before it, and what the runner must do.

import { describe, expect, it } from 'vitest';
import { healthVerdict, type HealthInput } from '../../main/core/supervisor/health-verdict.js';

const base: HealthInput = {
  state: 'ok',
  starting: false,
  failures: 0,
  startedForMs: 5_000,
  startTimeoutMs: 60_000,
  hungAfterFailures: 3,
};

const TABLE: [string, Partial<HealthInput>, ReturnType<typeof healthVerdict>][] = [
  [
    'answers while starting: ready',
    { state: 'ok', starting: true },
    { type: 'healthy', failures: 0 },
  ],
  [
    'answers after failures: healthy again, count reset',
    { state: 'ok', failures: 2 },
    { type: 'healthy', failures: 0 },
  ],
  [
    'down while starting, within the timeout: wait',
    { state: 'down', starting: true },
    { type: 'wait', failures: 0 },
  ],
  [
    'loading while starting: wait',
    { state: 'loading', starting: true },
    { type: 'wait', failures: 0 },
  ],
  [
    'foreign while starting: wait (not counted)',
    { state: 'foreign', starting: true, failures: 1 },
    { type: 'wait', failures: 1 },
  ],
  [
    'down while starting, past the timeout',
    { state: 'down', starting: true, startedForMs: 60_001 },
    { type: 'start_timeout', failures: 0 },
  ],
  [
    'exactly at the timeout: still waiting',
    { state: 'down', starting: true, startedForMs: 60_000 },
    { type: 'wait', failures: 0 },
  ],
  [
    'an error while starting is a problem, not a wait',
    { state: 'error', starting: true, startedForMs: 90_000 },
    { type: 'problem', failures: 0 },
  ],
  [
    'error after start: problem, not hung',
    { state: 'error', failures: 2 },
    { type: 'problem', failures: 0 },
  ],
  [
    'loading after start (reloading a model): problem',
    { state: 'loading' },
    { type: 'problem', failures: 0 },
  ],
  ['first failed check: failing', { state: 'down' }, { type: 'failing', failures: 1 }],
  [
    'second failed check: failing',
    { state: 'foreign', failures: 1 },
    { type: 'failing', failures: 2 },
  ],
  [
    'third failed check in a row: hung',
    { state: 'down', failures: 2 },
    { type: 'hung', failures: 3 },
  ],
  [
    'hungAfterFailures 1: the first failure is a hang',
    { state: 'down', hungAfterFailures: 1 },
    { type: 'hung', failures: 1 },
  ],
];

describe('healthVerdict', () => {
  for (const [name, input, want] of TABLE) {
    it(name, () => expect(healthVerdict({ ...base, ...input })).toEqual(want));
  }
});
