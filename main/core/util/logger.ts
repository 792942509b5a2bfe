// A small structured logger: one line per event, to stdout (headless) or wherever the sink says.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export type LogSink = (line: string) => void;

/**
 * 'journal': stdout goes to journald (JOURNAL_STREAM), which stamps each line itself: no timestamp,
 * and a sd-daemon(3) priority prefix ("<4>") so `journalctl -p warning` filters by level.
 */
export type LogFormat = 'plain' | 'journal';
const PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export function createLogger(
  opts: {
    scope?: string;
    level?: LogLevel;
    sink?: LogSink;
    now?: () => Date;
    format?: LogFormat;
  } = {},
): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const sink = opts.sink ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = opts.now ?? (() => new Date());
  const make = (scope: string): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (ORDER[level] < min) return;
      const extra = fields && Object.keys(fields).length ? ' ' + safeJson(fields) : '';
      if (opts.format === 'journal')
        sink(`<${PRIORITY[level]}>${level.toUpperCase().padEnd(5)} [${scope}] ${msg}${extra}`);
      else
        sink(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${msg}${extra}`);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (s) => make(scope ? `${scope}:${s}` : s),
    };
  };
  return make(opts.scope ?? 'core');
}

/** For tests: drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => nullLogger,
};

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, val) => (val instanceof Error ? val.message : val));
  } catch {
    return '[unserializable]';
  }
}
