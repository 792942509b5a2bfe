// The dashboard's pure parts: hash routes, chart geometry, log merge/search, settings patches.

import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from '../../renderer/src/route.js';
import {
  gaugeArc,
  linePlot,
  niceCeil,
  stackSegments,
  stateBands,
} from '../../renderer/src/charts.js';
import { filterLogLines, highlightParts, mergeLogLines } from '../../renderer/src/logs.js';
import {
  diffPatch,
  fieldMatches,
  parseKeyValues,
  parseList,
  parseNumber,
  setPath,
  typedValues,
} from '../../renderer/src/settings-model.js';
import { formatDuration, formatMB, gpuStaleness } from '../../renderer/src/format.js';
import { addSample, sampleFromHistory } from '../../renderer/src/useServer.js';
import { servicesBarParts } from '../../renderer/src/panels/Gpu.js';
import type { LogLine } from '../../main/core/contract.js';

describe('hash routes', () => {
  it('opens a section, a service log, and ignores the token fragment', () => {
    expect(parseHash('#pairing')).toEqual({ section: 'pairing' });
    expect(parseHash('#services/ollama/logs')).toEqual({
      section: 'services',
      service: 'ollama',
      logs: true,
    });
    expect(parseHash('#services/my%20svc')).toEqual({ section: 'services', service: 'my svc' });
    expect(parseHash('#token=abc')).toEqual({ section: 'services' });
    expect(parseHash('#nonsense')).toEqual({ section: 'services' });
    expect(parseHash('')).toEqual({ section: 'services' });
  });
  it('round-trips', () => {
    for (const h of ['#gpu', '#services/piper/logs', '#settings'])
      expect(formatHash(parseHash(h))).toBe(h);
  });
});

describe('chart geometry', () => {
  it('stacks parts on the total and clips an overflow at the end', () => {
    const s = stackSegments(
      [
        { key: 'a', label: 'a', value: 3000 },
        { key: 'z', label: 'zero', value: 0 },
        { key: 'b', label: 'b', value: 6000 },
        { key: 'c', label: 'c', value: 6000 },
      ],
      12000,
    );
    expect(s.map((x) => [x.key, x.x, x.width])).toEqual([
      ['a', 0, 25],
      ['b', 25, 50],
      ['c', 75, 25],
    ]);
    expect(stackSegments([{ key: 'a', label: 'a', value: 1 }], 0)).toEqual([]);
  });

  it('plots points in the window, breaks the line on gaps, and picks a readable axis', () => {
    const p = linePlot(
      [
        { t: 0, v: 5 },
        { t: 50, v: 10 },
        { t: 100, v: 0 },
        { t: 1000, v: 99 }, // outside the window
      ],
      { tStart: 0, tEnd: 100, width: 100, height: 10, yMax: 10 },
    );
    expect(p.line).toBe('M0,5L50,0L100,10');
    expect(p.area).toBe('M0,10L0,5L50,0L100,10L100,10L0,10Z');
    const gapped = linePlot(
      [
        { t: 0, v: 1 },
        { t: 10, v: 1 },
        { t: 80, v: 1 },
        { t: 90, v: 1 },
      ],
      { tStart: 0, tEnd: 100, width: 100, height: 10, yMax: 2, gapMs: 30 },
    );
    expect(gapped.line.match(/M/g)).toHaveLength(2);
    expect(niceCeil(7300)).toBe(10000);
    expect(niceCeil(1800)).toBe(2000);
    expect(niceCeil(0)).toBe(1);
    expect(linePlot([{ t: 1, v: 1 }], { tStart: 0, tEnd: 10, width: 10, height: 10 }).line).toBe(
      '',
    );
  });

  it('draws the gauge arc from the left end', () => {
    expect(gaugeArc(0, 60, 60, 50)).toBe('');
    expect(gaugeArc(1, 60, 60, 50)).toBe('M10,60A50,50 0 0 1 110,60');
    expect(gaugeArc(0.5, 60, 60, 50)).toBe('M10,60A50,50 0 0 1 60,10');
  });

  it('turns transitions into state bands over the window', () => {
    const now = 10_000;
    const bands = stateBands(
      [
        { at: new Date(1000).toISOString(), from: 'active', to: 'warm' },
        { at: new Date(6000).toISOString(), from: 'warm', to: 'cool' },
        { at: new Date(8000).toISOString(), from: 'cool', to: 'active' },
      ],
      'active',
      now,
      5000,
    );
    expect(bands.map((b) => [b.state, b.x, b.width])).toEqual([
      ['warm', 0, 20],
      ['cool', 20, 40],
      ['active', 60, 40],
    ]);
    expect(stateBands([], 'dormant', now, 5000)).toEqual([
      { state: 'dormant', from: 5000, to: 10_000, x: 0, width: 100 },
    ]);
    // A transition stamped just after the view's (once a second) clock still shows.
    const late = stateBands(
      [{ at: new Date(10_400).toISOString(), from: 'active', to: 'cool' }],
      'cool',
      now,
      5000,
    );
    expect(late.map((b) => b.state)).toEqual(['active']);
    expect(late[0]!.to).toBe(10_400);
  });
});

describe('log viewer', () => {
  const l = (t: string, text: string, stream: LogLine['stream'] = 'stdout'): LogLine => ({
    t,
    text,
    stream,
  });
  it('merges live lines without duplicating fetched ones, bounded', () => {
    const initial = [l('1', 'a'), l('2', 'b')];
    const live = [l('2', 'b'), l('3', 'c'), l('4', 'd')];
    expect(mergeLogLines(initial, live, 10).map((x) => x.text)).toEqual(['a', 'b', 'c', 'd']);
    expect(mergeLogLines(initial, live, 2).map((x) => x.text)).toEqual(['c', 'd']);
  });
  it('searches case-insensitively by stream and highlights matches', () => {
    const lines = [
      l('1', 'Loading model'),
      l('2', 'model loaded', 'stderr'),
      l('3', 'ready', 'supervisor'),
    ];
    expect(filterLogLines(lines, 'MODEL').map((x) => x.t)).toEqual(['1', '2']);
    expect(filterLogLines(lines, 'model', 'stderr').map((x) => x.t)).toEqual(['2']);
    expect(filterLogLines(lines, '  ').length).toBe(3);
    expect(highlightParts('a Model b model', 'model')).toEqual([
      { text: 'a ', match: false },
      { text: 'Model', match: true },
      { text: ' b ', match: false },
      { text: 'model', match: true },
    ]);
  });
});

describe('settings form model', () => {
  it('sends only what changed; arrays whole', () => {
    const before = {
      a: 1,
      api: { port: 11400, bind: '0.0.0.0' },
      models: { preload: ['x'] },
      services: {},
    };
    let after = setPath(before, ['api', 'port'], 70000);
    after = setPath(after, ['models', 'preload'], ['x', 'y']);
    after = setPath(after, ['services', 'my-stt'], { enabled: true });
    expect(diffPatch(before, after)).toEqual({
      api: { port: 70000 },
      models: { preload: ['x', 'y'] },
      services: { 'my-stt': { enabled: true } },
    });
    expect(diffPatch(before, structuredClone(before))).toBeUndefined();
    expect(before.api.port).toBe(11400); // setPath copies
  });
  it('parses lists, key=value lines, typed options and numbers', () => {
    expect(parseList('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(parseList('a:1\n\n b \n')).toEqual(['a:1', 'b']);
    expect(parseKeyValues('A=1\nB = two=2\nFLAG')).toEqual({ A: '1', B: 'two=2', FLAG: '' });
    expect(typedValues({ a: 'true', b: '3', c: 'cuda', d: '' })).toEqual({
      a: true,
      b: 3,
      c: 'cuda',
      d: '',
    });
    expect(parseNumber('', true)).toBeNull();
    expect(parseNumber('', false)).toBe('');
    expect(parseNumber(' 42 ', false)).toBe(42);
    expect(parseNumber('4x', false)).toBe('4x');
  });
  it('matches the field an API 400 names, including list items', () => {
    expect(fieldMatches('api.port', ['api', 'port'])).toBe(true);
    expect(fieldMatches('models.preload.0', ['models', 'preload'])).toBe(true);
    expect(fieldMatches('api.portal', ['api', 'port'])).toBe(false);
    expect(fieldMatches(null, ['api', 'port'])).toBe(false);
  });
});

describe('formatting and GPU history', () => {
  it('formats durations and sizes', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(258)).toBe('4 min 18 s');
    expect(formatDuration(3600 * 2 + 60 * 5)).toBe('2 h 5 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatMB(512)).toBe('512 MB');
    expect(formatMB(7900)).toBe('7.7 GB');
  });
  it('keeps 10 minutes of samples in time order without duplicates', () => {
    let h = [sampleFromHistory({ t: 1000, usedMB: [100, null], utilPct: [] })!];
    h = addSample(h, { t: 500, used: [50], total: [] });
    h = addSample(h, { t: 1000, used: [999], total: [] });
    expect(h.map((x) => x.t)).toEqual([500, 1000]);
    expect(h[1]!.used).toEqual([100, 0]);
    h = addSample(h, { t: 1000 + 10 * 60_000, used: [1], total: [] });
    expect(h.map((x) => x.t)).toEqual([1000, 601_000]);
    expect(sampleFromHistory({ t: 1, usedMB: [null], utilPct: [] })).toBeNull();
  });
});

describe('ticking figures', () => {
  it('keeps the time a service or hibernation figure last changed, not when any snapshot came', async () => {
    const { updateStamps } = await import('../../renderer/src/useServer.js');
    const svc = (uptimeSeconds: number, pid = 1) => ({
      id: 'ollama',
      name: 'Ollama',
      enabled: true,
      status: 'running' as const,
      port: 1,
      pid,
      restarts: 0,
      uptimeSeconds,
      health: null,
      lastError: null,
    });
    const snap = (uptime: number, idle: number, pid = 1) => ({
      v: 1 as const,
      host: {
        id: 'h',
        name: 'h',
        platform: 'linux',
        role: 'fallback' as const,
        prio: 100,
        serving: true,
      },
      hibernation: { state: 'active' as const, idleSeconds: idle, next: null },
      services: [svc(uptime, pid)],
      gpu: { sampledAt: null, gpus: [], models: [] },
      peers: [],
      notices: [],
    });
    let st = updateStamps({ services: {}, hibernation: 0, pairing: 0 }, null, snap(0, 0), 1000);
    expect(st).toEqual({ services: { ollama: 1000 }, hibernation: 1000, pairing: 1000 });
    // A GPU sample changes the snapshot, not the service's uptime: the stamp stays.
    st = updateStamps(st, snap(0, 0), snap(0, 0), 5000);
    expect(st.services.ollama).toBe(1000);
    expect(st.hibernation).toBe(1000);
    st = updateStamps(st, snap(0, 0), snap(6, 0), 7000);
    expect(st.services.ollama).toBe(7000);
    st = updateStamps(st, snap(6, 0), snap(6, 0, 2), 8000); // restarted: new pid
    expect(st.services.ollama).toBe(8000);
    st = updateStamps(st, snap(6, 0, 2), snap(6, 9, 2), 9000);
    expect(st.hibernation).toBe(9000);
  });
});

describe('GPU figures older than the sampling interval', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  it('says nothing while fresh, and says how old they are otherwise', () => {
    expect(gpuStaleness({ sampledAt: null, intervalSeconds: 2 }, t0)).toBeNull();
    expect(
      gpuStaleness({ sampledAt: '2026-01-01T00:00:00Z', intervalSeconds: 2 }, t0 + 6_000),
    ).toBeNull();
    expect(
      gpuStaleness({ sampledAt: '2026-01-01T00:00:00Z', intervalSeconds: 2 }, t0 + 30_000),
    ).toMatch(/^These figures are from 30 s ago, older than the 2 s sampling interval/);
  });
  it('cold and dormant read on demand: the note says why the figures are old', () => {
    expect(
      gpuStaleness(
        { sampledAt: '2026-01-01T00:00:00Z', intervalSeconds: 60, onDemand: true },
        t0 + 2_000,
      ),
    ).toBeNull();
    expect(
      gpuStaleness(
        { sampledAt: '2026-01-01T00:00:00Z', intervalSeconds: 60, onDemand: true },
        t0 + 20 * 60_000,
      ),
    ).toMatch(
      /^These figures are from 20 min ago: while the server sleeps the GPU is read only on request/,
    );
  });
});

describe('GPU by-service bar', () => {
  const snap = (gpu: Record<string, unknown>) =>
    ({
      services: [
        { id: 'ollama', name: 'Ollama' },
        { id: 'vibevoice', name: 'VibeVoice' },
      ],
      gpu: {
        sampledAt: null,
        models: [],
        gpus: [
          { name: 'RTX', vendor: 'NVIDIA', vramTotalMB: 12288, vramUsedMB: 11000, unified: false },
        ],
        ...gpu,
      },
    }) as unknown as Parameters<typeof servicesBarParts>[0];
  it('shows the same "other programs" figure the advice uses', () => {
    expect(
      servicesBarParts(snap({ services: [{ service: 'ollama', vramMB: 4198 }], otherMB: 1946 })),
    ).toEqual([
      { key: 'ollama', label: 'Ollama', value: 4198 },
      { key: '(other)', label: 'Other programs', value: 1946 },
    ]);
  });
  it('Windows (WDDM): VibeVoice unmeasured, the rest is not blamed on other programs', () => {
    expect(
      servicesBarParts(
        snap({
          services: [
            { service: 'ollama', vramMB: 5600 },
            { service: 'vibevoice', vramMB: 0, unmeasured: 1 },
          ],
          otherMB: null,
        }),
      ),
    ).toEqual([
      { key: 'ollama', label: 'Ollama', value: 5600 },
      {
        key: '(unattributed)',
        label: 'VibeVoice and other programs (not measured per program)',
        value: 11000 - 5600,
      },
    ]);
  });
});
