// The model tier from the GPU, as a table: the reference matrix's rows (guide §3) and the cases the
// issue names (RTX 3060 12 GB → mistral:7b + VibeVoice, 24 GB → qwen2.5:14b, M4 Max 128 GB → qwen2.5:32b).

import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../../main/core/contract.js';
import { appleGpuCeiling } from '../../main/core/gpu/unified.js';
import { chooseTier } from '../../main/core/setup/tier.js';

const nvidia = (name: string, gb: number): GpuInfo => ({
  name,
  vendor: 'NVIDIA',
  vramTotalMB: gb * 1024,
  vramUsedMB: 0,
  unified: false,
});
const apple = (name: string, ramGB: number): GpuInfo => ({
  name,
  vendor: 'Apple',
  vramTotalMB: appleGpuCeiling(ramGB * 1024).mb,
  vramUsedMB: null,
  unified: true,
  unifiedMemoryMB: ramGB * 1024,
});

describe('chooseTier', () => {
  const table: [string, GpuInfo[], string, boolean][] = [
    ['no GPU: CPU-only llama3.2:3b, Piper', [], 'llama3.2:3b', false],
    [
      'GTX 1660 6 GB: llama3.2:3b + Piper (mistral alone is tight)',
      [nvidia('NVIDIA GeForce GTX 1660', 6)],
      'llama3.2:3b',
      false,
    ],
    [
      'RTX 3060 8 GB: mistral:7b, both together tight → Piper',
      [nvidia('NVIDIA GeForce RTX 3060', 8)],
      'mistral:7b',
      false,
    ],
    [
      'RTX 3080 10 GB: mistral:7b + VibeVoice',
      [nvidia('NVIDIA GeForce RTX 3080', 10)],
      'mistral:7b',
      true,
    ],
    [
      'RTX 3060 12 GB: mistral:7b + VibeVoice',
      [nvidia('NVIDIA GeForce RTX 3060', 12)],
      'mistral:7b',
      true,
    ],
    [
      'RTX 4080 16 GB: the app default qwen2.5:14b-instruct',
      [nvidia('NVIDIA GeForce RTX 4080', 16)],
      'qwen2.5:14b-instruct',
      true,
    ],
    [
      'RTX 3090 24 GB: qwen2.5:14b (32b is tight next to VibeVoice)',
      [nvidia('NVIDIA GeForce RTX 3090', 24)],
      'qwen2.5:14b-instruct',
      true,
    ],
    ['RTX 5090 32 GB: qwen2.5:32b', [nvidia('NVIDIA GeForce RTX 5090', 32)], 'qwen2.5:32b', true],
    [
      'two 12 GB cards: planned on one',
      [nvidia('RTX 3060', 12), nvidia('RTX 3060', 12)],
      'mistral:7b',
      true,
    ],
    ['M1 8 GB: llama3.2:3b + Piper (5.3 GB usable)', [apple('Apple M1', 8)], 'llama3.2:3b', false],
    [
      'M4 24 GB: qwen2.5:14b-instruct (16 GB usable)',
      [apple('Apple M4', 24)],
      'qwen2.5:14b-instruct',
      true,
    ],
    ['M4 Max 128 GB: qwen2.5:32b', [apple('Apple M4 Max', 128)], 'qwen2.5:32b', true],
  ];
  it.each(table)('%s', (_name, gpus, model, vibevoice) => {
    const t = chooseTier(gpus);
    expect({ model: t.model, vibevoice: t.vibevoice }).toEqual({ model, vibevoice });
    expect(t.why.length).toBeGreaterThan(0);
  });

  it('says why in numbers, and what to do on the phone', () => {
    const t = chooseTier([nvidia('NVIDIA GeForce RTX 3060', 12)]);
    expect(t.gpu).toBe('NVIDIA GeForce RTX 3060, 12 GB');
    expect(t.why.join(' ')).toMatch(/mistral:7b \+ VibeVoice: [\d.]+ of 12 GB/);
    expect(t.why.join(' ')).toMatch(
      /next larger model does not: qwen2\.5:14b-instruct \+ VibeVoice/,
    );
    expect(t.why.join(' ')).toMatch(/press Refresh/);
    expect(chooseTier([nvidia('RTX 4080', 16)]).why.join(' ')).toMatch(
      /nothing to change on the phone/,
    );
    expect(chooseTier([apple('Apple M4 Max', 128)]).gpu).toBe(
      'Apple M4 Max, 128 GB unified memory, 96 GB usable by the GPU',
    );
  });
});
