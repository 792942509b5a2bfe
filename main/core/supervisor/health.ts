// Health checks: ready means the service answers as itself, not that its process exists.
// `judge*` functions are pure (answers in, verdict out); `checkHealth` does the HTTP.

import { httpGet, type Answer } from '../util/http-get.js';
import type { HealthKind } from '../services/presets.js';

/**
 * ok: healthy. loading: answers but is not ready yet (keep waiting). error: answers as the right
 * service but reports a problem (e.g. VibeVoice's model failed to load). down: no answer (refused,
 * timed out). foreign: something else answers on the port.
 */
export type HealthState = 'ok' | 'loading' | 'error' | 'down' | 'foreign';

export interface HealthResult {
  state: HealthState;
  latencyMs: number | null;
  message: string | null;
  version?: string;
}

export type { Answer } from '../util/http-get.js';

/** Decides from the answers so far: a verdict, or the next path to ask. */
export type Verdict = { done: Omit<HealthResult, 'latencyMs'> } | { next: string };

function firstPath(kind: HealthKind, healthPath = '/'): string {
  switch (kind) {
    case 'ollama':
      return '/';
    case 'vibevoice':
    case 'whisper':
      return '/health';
    case 'piper':
      return '/info';
    case 'http':
      return healthPath;
  }
}

function parseJson(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const down = (a: { error: string }): Verdict => ({ done: { state: 'down', message: a.error } });
const snippet = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 200);

/** Pure: the verdict after `answers` (one per path asked so far, in order). */
export function judge(kind: HealthKind, answers: Answer[]): Verdict {
  const a = answers[answers.length - 1];
  if (!a) return { next: firstPath(kind) };
  if ('error' in a) return down(a);
  switch (kind) {
    case 'ollama': {
      if (answers.length === 1) {
        if (a.status === 200 && a.body.includes('Ollama is running'))
          return { next: '/api/version' };
        return {
          done: {
            state: 'foreign',
            message: `GET / answered ${a.status} "${snippet(a.body)}", not "Ollama is running"`,
          },
        };
      }
      const j = parseJson(a.body);
      if (a.status === 200 && typeof j?.version === 'string')
        return { done: { state: 'ok', message: null, version: j.version } };
      return { done: { state: 'error', message: `GET /api/version answered ${a.status}` } };
    }
    case 'vibevoice': {
      const j = parseJson(a.body);
      if (a.status === 404 || (a.status === 200 && !j))
        return {
          done: { state: 'foreign', message: `GET /health answered ${a.status}, not as VibeVoice` },
        };
      if (a.status === 503) return { done: { state: 'loading', message: 'loading the model' } };
      if (a.status !== 200 || !j)
        return {
          done: {
            state: 'error',
            message: `GET /health answered ${a.status} "${snippet(a.body)}"`,
          },
        };
      if (j.model_loaded === true) return { done: { state: 'ok', message: null } };
      if (j.model_loaded === false) {
        const why = [j.error, j.detail, j.message].find((v) => typeof v === 'string' && v) as
          string | undefined;
        return {
          done: { state: 'error', message: `the model is not loaded${why ? `: ${why}` : ''}` },
        };
      }
      return {
        done: { state: 'loading', message: 'GET /health does not report model_loaded yet' },
      };
    }
    case 'piper': {
      if (answers.length === 1) {
        if (a.status === 200) return { done: { state: 'ok', message: null } };
        if (a.status === 404) return { next: '/voices' }; // before v1.5: no /info
        if (a.status >= 500)
          return { done: { state: 'error', message: `GET /info answered ${a.status}` } };
        return {
          done: { state: 'foreign', message: `GET /info answered ${a.status}, not as Piper` },
        };
      }
      if (a.status === 200 && parseJson(a.body)) return { done: { state: 'ok', message: null } };
      // piper-tts 1.2 (rhasspy/piper http_server.py) has only `/`, whose GET without ?text= raises
      // (a traceback in its log each time): Flask's own 404 page for /voices is the cheap sign.
      if (a.status === 404 && /The requested URL was not found on the server/.test(a.body)) {
        return {
          done: {
            state: 'ok',
            message: null,
            version: '1.2 (no /info, no /voices: upgrade with pip install -U "piper-tts[http]")',
          },
        };
      }
      return {
        done: { state: 'foreign', message: `GET /voices answered ${a.status}, not as Piper` },
      };
    }
    case 'whisper': {
      const j = parseJson(a.body);
      if (a.status === 200 && j?.status === 'ok') return { done: { state: 'ok', message: null } };
      if (a.status === 503)
        return {
          done: {
            state: 'loading',
            message: typeof j?.status === 'string' ? j.status : 'loading the model',
          },
        };
      if (j && a.status >= 500)
        return {
          done: {
            state: 'error',
            message: `GET /health answered ${a.status} "${snippet(a.body)}"`,
          },
        };
      return {
        done: {
          state: 'foreign',
          message: `GET /health answered ${a.status}, not as whisper-server`,
        },
      };
    }
    case 'http': {
      if (a.status >= 200 && a.status < 300) return { done: { state: 'ok', message: null } };
      if (a.status === 503) return { done: { state: 'loading', message: 'answered 503' } };
      return { done: { state: 'error', message: `answered ${a.status} "${snippet(a.body)}"` } };
    }
  }
}

/** The requests of a check that passed, for `checkHealth`'s `again` (same process only). */
export interface HealthMemo {
  paths: string[];
  answers: Answer[];
}

/**
 * Asks the service as its kind requires and returns the verdict with the first answer's latency.
 * `again`: the memo of this process's last passing check. Only the request that gave that verdict is
 * asked again, judged with the earlier answers standing (Ollama: `/api/version`, not `/` first every
 * time): the process is the same one, so who it is was settled. No answer is `down` at once; any
 * other answer but ok falls back to the full check, so a problem is classified exactly as without a
 * memo. A passing check returns its memo.
 */
export async function checkHealth(
  kind: HealthKind,
  host: string,
  port: number,
  opts: { timeoutMs: number; healthPath?: string; again?: HealthMemo | null },
): Promise<HealthResult & { memo?: HealthMemo }> {
  const prior = opts.again;
  if (prior && prior.paths.length > 1) {
    const t0 = performance.now();
    const a = await httpGet(host, port, prior.paths[prior.paths.length - 1]!, opts.timeoutMs);
    const answers = [...prior.answers.slice(0, -1), a];
    const v = judge(kind, answers);
    if ('done' in v && v.done.state === 'ok') {
      return {
        ...v.done,
        latencyMs: Math.round((performance.now() - t0) * 10) / 10,
        memo: { paths: prior.paths, answers },
      };
    }
    // No answer at all (refused, timed out): the full check would start the same way; say so now.
    if ('error' in a) return { state: 'down', latencyMs: null, message: a.error };
  }
  const answers: Answer[] = [];
  const paths: string[] = [];
  let path = firstPath(kind, opts.healthPath);
  let latencyMs: number | null = null;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const a = await httpGet(host, port, path, opts.timeoutMs);
    if (latencyMs === null && !('error' in a))
      latencyMs = Math.round((performance.now() - t0) * 10) / 10;
    answers.push(a);
    paths.push(path);
    const v = judge(kind, answers);
    if ('done' in v)
      return {
        ...v.done,
        latencyMs,
        ...(v.done.state === 'ok' ? { memo: { paths, answers } } : {}),
      };
    path = v.next;
  }
  return { state: 'error', latencyMs, message: 'health check did not settle' };
}

/** The paths a health check of `kind` asks. */
function healthPaths(kind: HealthKind, healthPath = '/'): string[] {
  switch (kind) {
    case 'ollama':
      return ['/', '/api/version'];
    case 'vibevoice':
    case 'whisper':
      return ['/health'];
    case 'piper':
      return ['/info', '/voices'];
    case 'http':
      return [healthPath];
  }
}

/**
 * Matches a service's access-log line for one of our own health checks (Ollama's `[GIN] … |
 * 127.0.0.1 | GET "/api/version"`, uvicorn's `127.0.0.1:5 - "GET /health HTTP/1.1" 200`): these
 * would push everything useful out of the live log view, so they go to the log file only.
 */
export function healthEchoPattern(kind: HealthKind, healthPath = '/'): RegExp {
  const paths = healthPaths(kind, healthPath)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|');
  return new RegExp(
    `(?=.*(?:127\\.0\\.0\\.1|::1|localhost))(?=.*\\b(?:GET|HEAD)\\s+"?(?:${paths})(?:[\\s"?]|$))`,
  );
}
