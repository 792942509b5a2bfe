import { describe, expect, it } from 'vitest';
import { parseComputeApps, parseGpuQuery, readField } from '../../main/core/gpu/smi-parse.js';
import { gpuOut } from '../fixtures/bin/scenario.js';

describe('nvidia-smi --query-gpu parser', () => {
  it('reads one GPU', () => {
    const r = parseGpuQuery('0, NVIDIA GeForce RTX 3060, 12288, 7900, 35, 54, 41.27\n');
    expect(r).toEqual({
      ok: true,
      skipped: [],
      value: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 3060',
          totalMB: 12288,
          usedMB: 7900,
          utilizationPct: 35,
          temperatureC: 54,
          powerW: 41.27,
        },
      ],
    });
  });

  it('reads two GPUs, in index order, with Windows line endings', () => {
    const r = parseGpuQuery(
      '1, NVIDIA GeForce RTX 4090, 24564, 20100, 97, 71, 398.10\r\n0, NVIDIA GeForce RTX 3060, 12288, 512, 3, 40, 17.00\r\n',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((g) => [g.index, g.name, g.totalMB, g.usedMB])).toEqual([
      [0, 'NVIDIA GeForce RTX 3060', 12288, 512],
      [1, 'NVIDIA GeForce RTX 4090', 24564, 20100],
    ]);
  });

  it('an idle GPU: 0 MiB used reads 0, not missing', () => {
    const r = parseGpuQuery(
      gpuOut([
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 3060',
          totalMB: 12288,
          usedMB: 0,
          util: 0,
          tempC: 0,
          powerW: 0,
        },
      ]),
    );
    expect(r.ok && r.value[0]).toMatchObject({
      usedMB: 0,
      utilizationPct: 0,
      temperatureC: 0,
      powerW: 0,
    });
    if (r.ok) expect(Object.values(r.value[0]!)).not.toContain(null);
  });

  it('N/A and [Not Supported] fields read null; the rest of the line still counts', () => {
    const r = parseGpuQuery('0, Tesla T4, 15360, [N/A], [Not Supported], N/A, [Unknown Error]\n');
    expect(r.ok && r.value[0]).toEqual({
      index: 0,
      name: 'Tesla T4',
      totalMB: 15360,
      usedMB: null,
      utilizationPct: null,
      temperatureC: null,
      powerW: null,
    });
  });

  it('a GPU name with a comma in it', () => {
    const r = parseGpuQuery('0, NVIDIA RTX A2000, 12GB, 12282, 100, 2, 33, 10.5\n');
    expect(r.ok && r.value[0]?.name).toBe('NVIDIA RTX A2000, 12GB');
    expect(r.ok && r.value[0]?.usedMB).toBe(100);
  });

  it('garbage is an error with a readable reason, never a GPU', () => {
    const r = parseGpuQuery('Failed to initialize NVML: Driver/library version mismatch\n');
    expect(r).toEqual({
      ok: false,
      why: 'unexpected nvidia-smi output: "Failed to initialize NVML: Driver/library version mismatch"',
    });
    expect(parseGpuQuery('0, RTX, twelve, 1, 2, 3, 4')).toMatchObject({ ok: false });
    expect(parseGpuQuery('\x00\x01\x02 ,,,,')).toMatchObject({ ok: false });
    expect(parseGpuQuery('')).toEqual({ ok: false, why: 'nvidia-smi printed nothing' });
  });

  it('skips a broken line but keeps the good ones', () => {
    const r = parseGpuQuery('0, NVIDIA GeForce RTX 3060, 12288, 10, 1, 40, 20\nthis is not csv\n');
    expect(r.ok && r.value.length).toBe(1);
    expect(r.ok && r.skipped.length).toBe(1);
  });

  it('readField: numbers, driver placeholders, garbage', () => {
    expect(readField(' 0 ')).toBe(0);
    expect(readField('41.27')).toBe(41.27);
    expect(readField('[N/A]')).toBeNull();
    expect(readField('N/A')).toBeNull();
    expect(readField('[Insufficient Permissions]')).toBeNull();
    expect(readField('12 MiB')).toBeUndefined();
    expect(readField('')).toBeUndefined();
  });
});

describe('nvidia-smi --query-compute-apps parser', () => {
  it('reads pids and their memory; none is an empty list', () => {
    expect(parseComputeApps('4242, 5600\n4300, 0\n')).toEqual({
      ok: true,
      skipped: [],
      value: [
        { pid: 4242, usedMB: 5600 },
        { pid: 4300, usedMB: 0 },
      ],
    });
    expect(parseComputeApps('')).toEqual({ ok: true, skipped: [], value: [] });
    expect(parseComputeApps('No running processes found\n')).toEqual({
      ok: true,
      skipped: [],
      value: [],
    });
  });

  it('Windows (WDDM) reports [N/A] per process: the pid counts, the amount is unknown', () => {
    expect(parseComputeApps('9120, [N/A]\n')).toEqual({
      ok: true,
      skipped: [],
      value: [{ pid: 9120, usedMB: null }],
    });
  });

  it('garbage is an error', () => {
    expect(parseComputeApps('pid, used_gpu_memory [MiB]\n')).toMatchObject({ ok: false });
    expect(parseComputeApps('-3, 100\n')).toMatchObject({ ok: false });
  });
});
