// Which models this machine should run, from its GPU: the reference matrix
// (server-infrastructure-guide.md §3) applied through the GPU capability's own fit rules
// (main/core/services/fit.ts), so setup and the GPU view never disagree. Pure.

import type { GpuInfo, Tier } from '../contract.js';
import { estimateModel, fmtGB, judge, vibeVoiceItem, type FitBudget } from '../services/fit.js';

export type { Tier };

/** The ladder, largest first: [tag to pull, reference name it is sized as]. */
const LADDER: readonly (readonly [string, string])[] = [
  ['qwen2.5:32b', 'qwen2.5:32b'],
  // The app asks for `qwen2.5:14b-instruct` by default (reference/unamentis-app.md): the same
  // weights as `qwen2.5:14b`, so where the 14b fits, pulling this tag means the phone needs no change.
  ['qwen2.5:14b-instruct', 'qwen2.5:14b'],
  ['mistral:7b', 'mistral:7b'],
  ['llama3.2:3b', 'llama3.2:3b'],
];

/**
 * The order tried, as [ladder index, with VibeVoice]: the largest model next to VibeVoice down to
 * the guide's minimum stack (mistral:7b + VibeVoice, §2.3); then mistral:7b with Piper, as a better
 * tutor than llama3.2:3b with VibeVoice; llama3.2:3b last.
 */
const CANDIDATES: readonly (readonly [number, boolean])[] = [
  [0, true],
  [1, true],
  [2, true],
  [2, false],
  [3, true],
  [3, false],
];

/** The app's default model (Settings → Self-Hosted Server → model). */
const APP_DEFAULT_MODEL = 'qwen2.5:14b-instruct';

/**
 * The budget a model plans on: the largest single card (splitting a model over two is slower),
 * or on Apple silicon the share of unified memory the GPU may use.
 */
function budgetOf(gpus: readonly GpuInfo[]): FitBudget | null {
  const usable = gpus.filter((g) => g.vramTotalMB > 0);
  if (!usable.length) return null;
  const largest = usable.reduce((a, g) => (g.vramTotalMB > a.vramTotalMB ? g : a));
  return {
    totalMB: largest.vramTotalMB,
    unified: largest.unified,
    gpuCount: usable.length,
    largestMB: largest.vramTotalMB,
  };
}

export function chooseTier(gpus: readonly GpuInfo[]): Tier {
  const budget = budgetOf(gpus);
  if (!budget) {
    return {
      model: 'llama3.2:3b',
      vibevoice: false,
      gpu: 'no GPU found',
      why: [
        'No GPU was found, so models run on the CPU (guide §3.4: "not recommended for production").',
        'llama3.2:3b is the one model the guide calls viable on a CPU (15–25 tokens/s); Piper speaks, as VibeVoice would be too slow.',
      ],
    };
  }
  const card = gpus.find((g) => g.vramTotalMB === budget.totalMB)!;
  const mem =
    card.unified && card.unifiedMemoryMB
      ? `${fmtGB(card.unifiedMemoryMB)} GB unified memory, ${fmtGB(budget.totalMB)} GB usable by the GPU`
      : `${fmtGB(budget.totalMB)} GB`;
  const gpu = `${card.name}, ${mem}`;
  const why: string[] = [];
  if (gpus.length > 1)
    why.push(
      `Planned on the largest of ${gpus.length} GPUs: a model split over two cards is slower.`,
    );
  const vv = vibeVoiceItem();
  const sized = (i: number) => ({ ...estimateModel(LADDER[i]![1], [], []), name: LADDER[i]![0] });
  for (const [i, withVoice] of CANDIDATES) {
    const tag = LADDER[i]![0];
    const r = judge(withVoice ? [sized(i), vv] : [sized(i)], budget);
    if (r.level !== 'ok') continue;
    why.push(`${r.message}: it fits with room to spare (the matrix's "Yes").`);
    if (i > 0)
      why.push(`The next larger model does not: ${judge([sized(i - 1), vv], budget).message}.`);
    if (!withVoice)
      why.push(
        `VibeVoice does not fit next to it (the matrix's "Tight"): Piper, which needs almost no GPU memory, speaks instead.`,
      );
    if (tag === APP_DEFAULT_MODEL)
      why.push(`${tag} is the app's default model: nothing to change on the phone.`);
    else
      why.push(
        `The app asks for ${APP_DEFAULT_MODEL} by default: in the app, press Refresh in the model list (it picks the installed ${tag}).`,
      );
    return { model: tag, vibevoice: withVoice, gpu, why };
  }
  return {
    model: 'llama3.2:3b',
    vibevoice: false,
    gpu,
    why: [
      ...why,
      `${fmtGB(budget.totalMB)} GB is too little for any model of the guide to stay on the GPU: llama3.2:3b runs partly on the CPU, and Piper speaks.`,
    ],
  };
}
