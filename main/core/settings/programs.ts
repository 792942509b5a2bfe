// What the API token alone may not change: which programs the server runs. Issue #20: a token holder
// ran any program as the server's user at once, with `PUT /api/settings` naming a new service's
// command, or only `env.NODE_OPTIONS` on a preset. Pure: settings in, the fields out.
//
// Program fields of a service: `command`, `args`, `env` (but the data-only keys of SAFE_ENV), `cwd`,
// and the options that choose code: `options.dir` (VibeVoice's clone, its .venv python) and
// `options.script`. Over the API a change to one of them is accepted only when its value is
//  - one of the preset's own programs (`ollama`, `/usr/local/bin/ollama`, the clone's .venv python…), or
//  - a path the local user just picked with the app's native file dialog (`confirmed`), or
//  - cleared (back to the preset's default).
// Anything else needs the local user: settings.json (mode 0600) or the app's confirmation dialog.

import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { presetFor, type Options } from '../services/presets.js';
import type { ServiceSettings, Settings } from './schema.js';

/** Environment keys that only tune data and devices; every other key can load code (NODE_OPTIONS, LD_PRELOAD, PYTHONPATH, …). */
const SAFE_ENV: ReadonlySet<string> = new Set([
  'CUDA_VISIBLE_DEVICES',
  'HIP_VISIBLE_DEVICES',
  'ROCR_VISIBLE_DEVICES',
  'OLLAMA_KEEP_ALIVE',
  'OLLAMA_MODELS',
  'OLLAMA_NUM_PARALLEL',
  'OLLAMA_MAX_LOADED_MODELS',
  'OLLAMA_MAX_QUEUE',
  'OLLAMA_FLASH_ATTENTION',
  'OLLAMA_CONTEXT_LENGTH',
  'OLLAMA_KV_CACHE_TYPE',
  'OLLAMA_DEBUG',
  'HF_HOME',
  'HF_HUB_OFFLINE',
  'TRANSFORMERS_OFFLINE',
  'OMP_NUM_THREADS',
  'TZ',
  'LANG',
  'LC_ALL',
]);

export interface ProgramContext {
  platform: NodeJS.Platform;
  home: string;
  env: Record<string, string | undefined>;
}

const processContext = (): ProgramContext => ({
  platform: process.platform,
  home: os.homedir(),
  env: process.env,
});

/**
 * The program fields that differ between `prev` and `next` and are not confirmed, as dotted paths
 * (`services.ollama.env.NODE_OPTIONS`). Empty: the change runs nothing new.
 */
export function unconfirmedProgramChanges(
  prev: Settings,
  next: Settings,
  confirmed: (path: string) => boolean,
  ctx: ProgramContext = processContext(),
): string[] {
  const out: string[] = [];
  for (const [id, n] of Object.entries(next.services)) {
    const p: ServiceSettings = prev.services[id] ?? {};
    const at = (f: string) => `services.${id}.${f}`;
    const pathOk = (v: string) => confirmed(v);
    if (
      n.command !== undefined &&
      n.command !== p.command &&
      !pathOk(n.command) &&
      !presetPrograms(id, p, ctx).includes(n.command)
    )
      out.push(at('command'));
    if (n.args !== undefined && !isDeepStrictEqual(n.args, p.args)) out.push(at('args'));
    for (const [k, v] of Object.entries(n.env ?? {})) {
      if (v !== p.env?.[k] && !SAFE_ENV.has(k)) out.push(at(`env.${k}`));
    }
    if (n.cwd !== undefined && n.cwd !== p.cwd && !pathOk(n.cwd)) out.push(at('cwd'));
    for (const k of ['dir', 'script'] as const) {
      const v = n.options?.[k];
      if (
        v !== undefined &&
        v !== '' &&
        v !== p.options?.[k] &&
        !(typeof v === 'string' && pathOk(v))
      )
        out.push(at(`options.${k}`));
    }
  }
  return out;
}

/** The executables the preset itself would look for, with the options in force before the change. */
function presetPrograms(id: string, prev: ServiceSettings, ctx: ProgramContext): string[] {
  const preset = presetFor(id);
  if (!preset) return [];
  const options: Options = { ...preset.defaultOptions(ctx.platform), ...prev.options };
  return preset.commands({ ...ctx, host: '127.0.0.1', port: prev.port ?? preset.port, options });
}
