// The hibernation endpoints on a real in-process core: open activity/wake (rate-limited),
// `?wait=1`, and the token-gated manual controls, visible in /health and /api/status.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../main/core/index.js';
import { nullLogger } from '../../main/core/util/logger.js';
import { NullPowerBlocker } from '../../main/core/power/index.js';
import { hibernationRoutes } from '../../main/core/api/routes/hibernation.js';
import { HttpError } from '../../main/core/api/errors.js';
import type { CoreContext } from '../../main/core/context.js';
import type { HibernationControl } from '../../main/core/hibernation/index.js';
import type { RequestContext } from '../../main/core/api/router.js';
import { tempDir } from '../helpers/headless.js';

let core: Core;
let base: string;
let token: string;
const power = new NullPowerBlocker('test');

beforeAll(async () => {
  process.env.UNAMENTIS_MDNS_INTERFACES ??= 'lo';
  const dataDir = tempDir('unamentis-hib-api-');
  // No services: this file is about the endpoints (hibernation.fakes.test.ts runs the real thing).
  const off = { enabled: false };
  fs.writeFileSync(
    path.join(dataDir, 'settings.json'),
    JSON.stringify({
      discovery: { advertise: false, interfaces: [] },
      services: { ollama: off, vibevoice: off, piper: off, whisper: off },
    }),
  );
  core = createCore({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    logger: nullLogger,
    rendererDir: null,
    power,
  });
  const { url } = await core.start();
  base = url.replace(/\/$/, '');
  token = core.token();
});
afterAll(async () => {
  await core?.stop();
});

const post = (p: string, body?: unknown, auth = false) =>
  fetch(base + p, {
    method: 'POST',
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
const status = async () =>
  (await (await fetch(base + '/api/status')).json()) as { hibernation: Record<string, unknown> };

describe('hibernation API', () => {
  it('the snapshot carries the section from the start, and the OS is kept awake', async () => {
    const s = await status();
    expect(s.hibernation).toMatchObject({
      state: 'active',
      idleSeconds: 0,
      next: { state: 'warm', inSeconds: 30 },
      keepAwake: null,
      busy: false,
    });
    expect(power.held).toBe(true);
  });

  it('hibernate now needs the token, validates the state, and shows in /health and /api/status', async () => {
    expect((await post('/api/hibernation/hibernate', { state: 'cold' })).status).toBe(401);
    const bad = await post('/api/hibernation/hibernate', { state: 'asleep' }, true);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        code: 'bad_request',
        message: 'state must be one of active, warm, cool, cold, dormant',
        field: 'state',
      },
    });

    const r = await post('/api/hibernation/hibernate', { state: 'cold' }, true);
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ state: 'cold', next: { state: 'dormant' } });
    expect(((await (await fetch(base + '/health')).json()) as { state: string }).state).toBe(
      'cold',
    );
    expect((await status()).hibernation.history).toEqual([
      expect.objectContaining({ from: 'active', to: 'cold', reason: 'hibernate now (cold)' }),
    ]);
    expect(power.held).toBe(false);
  });

  it('POST /api/activity is open, answers 204 and returns the host to active', async () => {
    const r = await post('/api/activity');
    expect(r.status).toBe(204);
    expect(await r.text()).toBe('');
    expect((await status()).hibernation).toMatchObject({ state: 'active' });
    expect(((await status()).hibernation.history as { reason: string }[]).at(-1)!.reason).toMatch(
      /^activity \(api 127\.0\.0\.1\)$/,
    );
    expect(power.held).toBe(true);
  });

  it('POST /api/wake answers 202 {state} at once; ?wait=1 answers 200 with the snapshot once ready', async () => {
    await post('/api/hibernation/hibernate', { state: 'dormant' }, true);
    const r = await post('/api/wake');
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ state: 'active' });

    await post('/api/hibernation/hibernate', { state: 'cool' }, true);
    const w = await post('/api/wake?wait=1');
    expect(w.status).toBe(200);
    const snap = (await w.json()) as { v: number; hibernation: { state: string } };
    expect(snap.v).toBe(1);
    expect(snap.hibernation.state).toBe('active');
  });

  it('keep awake: until off, or for minutes; a bad value is a 400 naming the field', async () => {
    expect((await post('/api/hibernation/keep-awake', { on: true })).status).toBe(401);
    const on = await post('/api/hibernation/keep-awake', { on: true, minutes: null }, true);
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({
      state: 'active',
      keepAwake: { until: null },
      next: null,
    });
    const timed = await post('/api/hibernation/keep-awake', { on: true, minutes: 30 }, true);
    const until = ((await timed.json()) as { keepAwake: { until: string } }).keepAwake.until;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(29 * 60_000);
    const bad = await post('/api/hibernation/keep-awake', { on: true, minutes: -5 }, true);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('minutes');
    expect((await post('/api/hibernation/keep-awake', { on: 'yes' }, true)).status).toBe(400);
    const off = await post('/api/hibernation/keep-awake', { on: false }, true);
    expect(await off.json()).toMatchObject({ keepAwake: null, next: { state: 'warm' } });
  });

  it('the core exposes hibernation for the shell and tray', () => {
    expect(core.hibernation.section().state).toBe('active');
  });

  it('a burst of activity or wake is answered 429 (per client, per class)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 30; i++) codes.push((await post('/api/activity')).status);
    expect(codes.slice(0, 10).every((c) => c === 204)).toBe(true);
    expect(codes).toContain(429);
    const wakes: number[] = [];
    for (let i = 0; i < 15; i++) wakes.push((await post('/api/wake')).status);
    expect(wakes).toContain(429);
    // The classes are separate buckets: status still answers.
    expect((await fetch(base + '/api/status')).status).toBe(200);
  });
});

describe('POST /api/wake?wait=1 when the host does not become ready', () => {
  it('gives up with 504 and the contract error body after the wait', async () => {
    const control = {
      wakeAndWait: async (_s: string, ms: number) => (
        await new Promise((r) => setTimeout(r, ms)),
        false
      ),
    } as unknown as HibernationControl;
    const ctx = {
      commands: { execute: async () => ({ state: 'active' }) },
      store: { snapshot: () => ({}), get: () => [] },
    } as unknown as CoreContext;
    const wake = hibernationRoutes(ctx, control, { wakeWaitMs: 50 }).find(
      (r) => r.path === '/api/wake',
    )!;
    const req = {
      url: new URL('http://x/api/wake?wait=1'),
      client: '10.0.0.9',
    } as unknown as RequestContext;
    const err = await Promise.resolve(wake.handler(req)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(504);
    expect((err as HttpError).toBody()).toEqual({
      error: {
        code: 'timeout',
        message: 'Not ready after 0 s; see /api/status for the services that are not.',
      },
    });
  });
});
