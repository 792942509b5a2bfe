// `npm run headless`: the core without Electron, for a Linux GPU box, tests and CI.
// Usage: npm run headless -- [--data-dir DIR] [--port N] [--bind ADDR]
// (or UNAMENTIS_DATA_DIR, UNAMENTIS_PORT, UNAMENTIS_BIND).

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCore } from './core/index.js';
import { createLogger } from './core/util/logger.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Works from the source tree (tsx) and from the compiled tree (dist/main).
const rendererDir = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../renderer' : '../dist/renderer');

export function defaultDataDir(env = process.env): string {
  const xdg = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(xdg, 'unamentis-server');
}

function parsePort(value: string | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${source}: "${value}" is not a port number (0-65535).`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      bind: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: npm run headless -- [--data-dir DIR] [--port N] [--bind ADDR]');
    return;
  }
  const env = process.env;
  const dataDir = path.resolve(values['data-dir'] ?? env.UNAMENTIS_DATA_DIR ?? defaultDataDir());
  const port = parsePort(values.port, '--port') ?? parsePort(env.UNAMENTIS_PORT, 'UNAMENTIS_PORT');
  const bind = values.bind ?? env.UNAMENTIS_BIND;
  const logger = createLogger({ level: env.UNAMENTIS_LOG_LEVEL === 'debug' ? 'debug' : 'info' });

  let core: ReturnType<typeof createCore>;
  try {
    core = createCore({
      dataDir,
      ...(port !== undefined ? { port } : {}),
      ...(bind ? { bind } : {}),
      logger,
      rendererDir,
      version: process.env.npm_package_version,
      // A mirror of huggingface.co/rhasspy/piper-voices (tests: a local fixture server).
      ...(env.UNAMENTIS_PIPER_VOICES_URL ? { piperVoicesUrl: env.UNAMENTIS_PIPER_VOICES_URL } : {}),
    });
  } catch (err) {
    logger.error((err as Error).message);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await core.stop('quit');
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));

  try {
    const { port: actual } = await core.start();
    logger.info('UnaMentis Server (headless) is running', { dataDir, port: actual });
    console.log(`Dashboard: ${core.dashboardUrl()}`);
    console.log(`Settings:  ${path.join(dataDir, 'settings.json')}`);
  } catch (err) {
    logger.error((err as Error).message);
    await core.stop('quit').catch(() => {});
    process.exit(1);
  }
}

void main();
