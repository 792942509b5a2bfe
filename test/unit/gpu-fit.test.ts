// Fit advice against the reference guide (../shared/reference/server-infrastructure-guide.md):
// §2 model sizes and §3 hardware matrix. VRAM totals are what nvidia-smi reports for those cards.

import { describe, expect, it } from 'vitest';
import {
  checkModelFits,
  estimateModel,
  fmtGB,
  judge,
  largestFitting,
  REFERENCE_MODELS,
  stackAdvice,
  vibeVoiceItem,
  vramFromDiskBytes,
  type FitBudget,
  type FitInputs,
} from '../../main/core/services/fit.js';
import { appleGpuCeiling } from '../../main/core/gpu/unified.js';

const card = (totalMB: number, extra: Partial<FitBudget> = {}): FitBudget => ({
  totalMB,
  unified: false,
  gpuCount: 1,
  largestMB: totalMB,
  ...extra,
});
const withVibe = (budget: FitBudget | null, more: Partial<FitInputs> = {}): FitInputs => ({
  budget,
  installed: [],
  loaded: [],
  companions: [vibeVoiceItem()],
  ...more,
});
const alone = (budget: FitBudget | null): FitInputs => ({
  budget,
  installed: [],
  loaded: [],
  companions: [],
});

// nvidia-smi memory.total of each card class in §3.1.
const CARDS = {
  '8 GB (RTX 4060)': 8188,
  '10 GB (RTX 3080)': 10240,
  '12 GB (RTX 3060 12GB)': 12288,
  '16 GB (RTX 4080)': 16376,
  '24 GB (RTX 4090)': 24564,
  '32 GB (RTX 5090)': 32607,
} as const;

describe('fit advice vs the §3.1 hardware matrix', () => {
  // Columns: card | Both Together | largest model that runs next to VibeVoice ("Larger Models";
  // for 8 GB "No": smaller than mistral) | the next size up, which must not be "ok".
  const matrix: [keyof typeof CARDS, 'ok' | 'tight', string, string | null][] = [
    ['8 GB (RTX 4060)', 'tight', 'llama3.2:3b', 'qwen2.5:7b'],
    ['10 GB (RTX 3080)', 'ok', 'qwen2.5:7b', 'qwen2.5:14b'],
    ['12 GB (RTX 3060 12GB)', 'ok', 'qwen2.5:7b', 'qwen2.5:14b'],
    ['16 GB (RTX 4080)', 'ok', 'qwen2.5:14b', 'qwen2.5:32b'],
    ['24 GB (RTX 4090)', 'ok', 'qwen2.5:14b', null],
    ['32 GB (RTX 5090)', 'ok', 'qwen2.5:32b', null],
  ];

  for (const [label, both, largest, tooBig] of matrix) {
    it(`${label}: mistral:7b yes, VibeVoice yes, both ${both}, largest next to VibeVoice: ${largest}`, () => {
      const b = card(CARDS[label]);
      expect(checkModelFits('mistral:7b', alone(b)).level).toBe('ok');
      expect(judge([vibeVoiceItem()], b).level).toBe('ok');
      expect(stackAdvice(['mistral:7b'], withVibe(b)).level).toBe(both);
      // Every reference model up to the matrix's "Larger Models" entry fits next to VibeVoice.
      const ok = Object.keys(REFERENCE_MODELS).filter(
        (m) => checkModelFits(m, withVibe(b)).level === 'ok',
      );
      expect(ok).toContain(largest);
      expect(ok).toContain('llama3.2:3b');
      const bigger = Object.keys(REFERENCE_MODELS).filter(
        (m) => REFERENCE_MODELS[m]![0] > REFERENCE_MODELS[largest]![0],
      );
      for (const m of bigger) expect(ok, m).not.toContain(m);
      if (label.startsWith('8 GB')) {
        // "Larger Models: No": next to VibeVoice a 7B model is already tight there.
        expect(checkModelFits('qwen2.5:7b', withVibe(b)).level).toBe('tight');
        expect(checkModelFits('qwen2.5:14b', withVibe(b)).level).toBe('too-big');
      }
      // The suggestion offered when a model is too big is a model of that size.
      expect(REFERENCE_MODELS[largestFitting(withVibe(b))!]![0]).toBe(
        REFERENCE_MODELS[largest]![0],
      );
      if (tooBig) expect(checkModelFits(tooBig, withVibe(b)).level).not.toBe('ok');
    });
  }

  it('24 GB: qwen2.5:32b next to VibeVoice is "tight" (the matrix says "qwen2.5:32b (tight)")', () => {
    const r = checkModelFits('qwen2.5:32b', withVibe(card(CARDS['24 GB (RTX 4090)'])));
    expect(r.level).toBe('tight');
    expect(r.fits).toBe(true);
  });

  it('warns before loading qwen2.5:32b on a 12 GB card, and names what fits', () => {
    const r = checkModelFits('qwen2.5:32b', withVibe(card(12288)));
    expect(r.level).toBe('too-big');
    expect(r.fits).toBe(false);
    expect(r.message).toMatch(/^qwen2\.5:32b \+ VibeVoice: \d+(\.\d)? of 12 GB — too big/);
    expect(r.warnings!.join(' ')).toMatch(/(qwen2\.5:7b|mistral:7b) fits on this GPU\./);
  });

  it('16 GB: qwen2.5:32b is too big, qwen2.5:14b fits with VibeVoice', () => {
    expect(checkModelFits('qwen2.5:32b', withVibe(card(16376))).level).toBe('too-big');
    expect(checkModelFits('qwen2.5:14b', withVibe(card(16376))).level).toBe('ok');
  });

  it('says the stack in the issue\'s words: "mistral:7b + VibeVoice: x of 12 GB"', () => {
    const r = stackAdvice(['mistral:7b'], withVibe(card(12288)));
    // §2.3: mistral ~5-6 GB + VibeVoice ~2-3 GB = ~8-9 GB (decimal) = 7.5-8.4 GiB.
    expect(r.message).toBe(`mistral:7b + VibeVoice: ${fmtGB(r.neededMB!)} of 12 GB`);
    expect(r.neededMB! / 1024).toBeGreaterThan(7.4);
    expect(r.neededMB! / 1024).toBeLessThan(8.5);
    expect(r.items.map((i) => i.source)).toEqual(['reference', 'reference']);
  });
});

describe('model size estimates vs the guide §2', () => {
  // Download sizes as Ollama reports them (decimal bytes) and the guide's VRAM column (decimal GB).
  const rows: [string, number, number, number][] = [
    ['mistral:7b', 4.4e9, 5, 6],
    ['llama3.2:3b', 2.0e9, 2.5, 3.5],
    ['qwen2.5:32b', 19.9e9, 22, 24],
    ['qwen2.5:14b', 9.0e9, 10.5, 11.5],
    ['qwen2.5:7b', 4.5e9, 5, 6],
  ];
  for (const [name, disk, lo, hi] of rows) {
    it(`${name}: ${disk / 1e9} GB on disk → within ${lo}-${hi} GB of VRAM`, () => {
      const v = vramFromDiskBytes(disk) / 1e9;
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
      const item = estimateModel(name, [{ name, sizeBytes: disk }], []);
      expect(item.source).toBe('installed');
      expect(item.lowMB).toBeLessThan(item.mb);
      expect(item.highMB).toBeGreaterThan(item.mb);
    });
  }

  it('prefers what Ollama reports for a loaded model over any estimate', () => {
    const item = estimateModel(
      'mistral',
      [{ name: 'mistral:latest', sizeBytes: 4.4e9 }],
      [{ name: 'mistral:latest', sizeBytes: 6_000 * 1024 * 1024, vramBytes: 0 }],
    );
    expect(item).toMatchObject({ source: 'loaded', mb: 6000, lowMB: 6000, highMB: 6000 });
  });

  it('falls back to the reference list, then to the parameter count, then says unknown', () => {
    expect(estimateModel('mistral:latest', [], []).source).toBe('reference');
    const big = estimateModel('llama3.3:70b', [], []);
    expect(big.source).toBe('estimate');
    expect(big.mb / 1024).toBeGreaterThan(40);
    const r = checkModelFits('my-own-model', withVibe(card(12288)));
    expect(r.items[0]).toMatchObject({ source: 'unknown', mb: 0 });
    expect(r.warnings!.join(' ')).toMatch(/size of my-own-model is unknown/);
  });

  it('uses the measured VibeVoice VRAM when the sampler saw it', () => {
    expect(vibeVoiceItem(2900)).toMatchObject({ mb: 2900, source: 'measured' });
  });
});

describe('Apple silicon: a share of unified memory', () => {
  it('2/3 of RAM up to 36 GB, 3/4 above (matches recommendedMaxWorkingSetSize in Metal logs)', () => {
    expect(appleGpuCeiling(16384).mb).toBe(10923); // llama.cpp logs: 10922.67 MB on 16 GB
    expect(appleGpuCeiling(32768).mb).toBe(21845); // 21845.34 MB on 32 GB
    expect(appleGpuCeiling(65536).mb).toBe(49152); // 49152.00 MB on 64 GB
    expect(appleGpuCeiling(98304).mb).toBe(73728); // 73728.00 MB on 96 GB
    expect(appleGpuCeiling(131072)).toEqual({ mb: 98304, source: 'default share', share: 0.75 });
  });

  it('a user-set iogpu.wired_limit_mb wins (capped at RAM)', () => {
    expect(appleGpuCeiling(32768, 26000)).toMatchObject({
      mb: 26000,
      source: 'iogpu.wired_limit_mb',
    });
    expect(appleGpuCeiling(32768, 99999).mb).toBe(32768);
    expect(appleGpuCeiling(32768, 0).source).toBe('default share');
  });

  it('§3.3: a 16 GB M1 runs mistral:7b with VibeVoice; a 64 GB Max runs qwen2.5:32b with it', () => {
    const mac = (ram: number): FitBudget => ({
      totalMB: appleGpuCeiling(ram).mb,
      unified: true,
      gpuCount: 1,
      largestMB: appleGpuCeiling(ram).mb,
    });
    expect(stackAdvice(['mistral:7b'], withVibe(mac(16384))).level).toBe('ok');
    expect(checkModelFits('qwen2.5:32b', withVibe(mac(65536))).level).toBe('ok');
    expect(checkModelFits('qwen2.5:32b', withVibe(mac(16384))).level).toBe('too-big');
    expect(stackAdvice(['mistral:7b'], withVibe(mac(16384))).message).toMatch(
      /of 10\.7 GB \(unified memory the GPU may use\)$/,
    );
  });
});

describe('fit advice edge cases', () => {
  it('no GPU: unknown, says the models run on the CPU', () => {
    const r = stackAdvice(['mistral:7b'], withVibe(null));
    expect(r).toMatchObject({ level: 'unknown', fits: false });
    expect(r.message).toMatch(/no GPU found/);
  });

  it('two GPUs: the sum counts, with a warning when one card is not enough', () => {
    const b = card(24576, { gpuCount: 2, largestMB: 12288 });
    const r = checkModelFits('qwen2.5:14b', withVibe(b));
    expect(r.level).toBe('ok');
    expect(r.warnings!.join(' ')).toMatch(/split models across 2 GPUs/);
  });

  it('warns when other programs hold VRAM the stack needs', () => {
    const r = stackAdvice(['mistral:7b'], withVibe(card(12288, { otherUsedMB: 5000 })));
    expect(r.warnings!.join(' ')).toMatch(/Other programs hold 4\.9 GB/);
  });

  it('a preload list with duplicates counts each model once', () => {
    const r = stackAdvice(['mistral:7b', 'mistral:7b', ' '], withVibe(card(12288)));
    expect(r.items.map((i) => i.name)).toEqual(['mistral:7b', 'VibeVoice']);
  });

  it('checkModelFits mentions the models Ollama would unload', () => {
    const r = checkModelFits(
      'qwen2.5:7b',
      withVibe(card(12288), { loaded: [{ name: 'mistral:7b', sizeBytes: 5e9, vramBytes: 5e9 }] }),
    );
    expect(r.warnings).toContain('Ollama may unload mistral:7b to make room.');
  });

  it('fmtGB', () => {
    expect(fmtGB(12288)).toBe('12');
    expect(fmtGB(8601)).toBe('8.4');
    expect(fmtGB(0)).toBe('0');
  });
});
