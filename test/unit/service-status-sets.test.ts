// The status sets and the service-id pattern named once in the contract: each caller (hibernation, the GPU sampler, the tray,
// the dashboard, the latency check, setup) depends on exactly these members.

import { describe, expect, it } from 'vitest';
import {
  ANSWERING_STATUSES,
  answersHealthy,
  COMING_STATUSES,
  OURS_UP_STATUSES,
  PROCESS_STATUSES,
  UP_STATUSES,
  isServiceId,
  SERVICE_ID_PATTERN,
  type ServiceStatus,
} from '../../main/core/contract.js';
import { settingsJsonSchema } from '../../main/core/settings/schema.js';

// One row per status (the `Record` makes a new status fail to compile until it is placed here):
// answering, a process holds the port, our process up or coming, up or coming at all, comes up by itself.
const TABLE: Record<ServiceStatus, [boolean, boolean, boolean, boolean, boolean]> = {
  disabled: [false, false, false, false, false],
  stopped: [false, false, false, false, false],
  starting: [false, true, true, true, true],
  running: [true, true, true, true, false],
  unhealthy: [false, true, true, true, true],
  backoff: [false, false, true, true, true],
  failed: [false, false, false, false, false],
  external: [true, true, false, true, false],
};

describe('service status sets', () => {
  for (const [status, [answering, process, oursUp, up, coming]] of Object.entries(TABLE) as [
    ServiceStatus,
    boolean[],
  ][]) {
    it(`${status}`, () => {
      expect(ANSWERING_STATUSES.has(status)).toBe(answering);
      expect(PROCESS_STATUSES.has(status)).toBe(process);
      expect(OURS_UP_STATUSES.has(status)).toBe(oursUp);
      expect(UP_STATUSES.has(status)).toBe(up);
      expect(COMING_STATUSES.has(status)).toBe(coming);
    });
  }

  it('holds no status outside the contract', () => {
    const all = new Set(Object.keys(TABLE));
    for (const set of [
      ANSWERING_STATUSES,
      PROCESS_STATUSES,
      OURS_UP_STATUSES,
      UP_STATUSES,
      COMING_STATUSES,
    ]) {
      for (const s of set) expect(all.has(s)).toBe(true);
    }
  });

  it('answersHealthy needs an answering status and a passed health check', () => {
    expect(answersHealthy(undefined)).toBe(false);
    expect(answersHealthy({ status: 'running', health: { ok: true } })).toBe(true);
    expect(answersHealthy({ status: 'external', health: { ok: true } })).toBe(true);
    expect(answersHealthy({ status: 'running', health: { ok: false } })).toBe(false);
    expect(answersHealthy({ status: 'running', health: null })).toBe(false);
    expect(answersHealthy({ status: 'unhealthy', health: { ok: true } })).toBe(false);
    expect(answersHealthy({ status: 'starting', health: { ok: true } })).toBe(false);
  });
});

describe('service id', () => {
  it('one pattern for settings keys, URLs and file names', () => {
    for (const ok of ['ollama', 'vibevoice', 'piper', 'whisper', 'my-tts2', 'a'.repeat(32)])
      expect(isServiceId(ok)).toBe(true);
    for (const bad of [
      '',
      'Ollama',
      '1tts',
      '-x',
      'a'.repeat(33),
      '../etc',
      'x/y',
      'x.y',
      'x y',
      undefined,
      3,
    ]) {
      expect(isServiceId(bad)).toBe(false);
    }
  });

  it('the settings schema holds the same pattern', () => {
    type Node = { propertyNames?: { pattern: string }; properties?: Record<string, Node> };
    const schema = settingsJsonSchema as unknown as Node;
    expect(schema.properties!.services!.propertyNames!.pattern).toBe(SERVICE_ID_PATTERN);
    expect(schema.properties!.hibernation!.properties!.policy!.propertyNames!.pattern).toBe(
      SERVICE_ID_PATTERN,
    );
  });
});
