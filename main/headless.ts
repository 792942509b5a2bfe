#!/usr/bin/env -S node --max-semi-space-size=2
// `unamentis-server` (package.json "bin", the Linux package) and `npm run headless`: the core without
// Electron, for a Linux GPU box, a systemd unit, tests and CI. `unamentis-server --help` says it all.
// The shebang's V8 flag caps the young generation (16 MB by default): a mostly idle control server
// does not need it, and it is most of the gap to the 80 MB RSS goal (bench/headless.bench.ts).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreStoppedError, createCore } from './core/index.js';
import { createLogger } from './core/util/logger.js';
import { EXIT, USAGE, exitCodeFor, parseCli } from './headless-cli.js';
import { createNotifier, stdoutIsJournal } from './systemd.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Works from the source tree (tsx) and from the compiled tree (dist/main, also inside the package).
const compiled =
  here.includes(`${path.sep}dist${path.sep}`) || here.endsWith(`${path.sep}dist${path.sep}main`);
const root = path.resolve(here, compiled ? '../..' : '..');
const rendererDir = path.join(root, 'dist', 'renderer');

function packageVersion(): string | undefined {
  try {
    return (
      JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }
    ).version;
  } catch {
    return process.env.npm_package_version;
  }
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.kind === 'help') {
    console.log(USAGE);
    return;
  }
  if (cli.kind === 'usage') {
    console.error(`unamentis-server: ${cli.message}\nTry: unamentis-server --help`);
    process.exit(EXIT.usage);
  }
  const { dataDir, port, bind } = cli;
  const journal = stdoutIsJournal();
  const logger = createLogger({ level: cli.logLevel, format: journal ? 'journal' : 'plain' });
  const notify = createNotifier({ logger });

  let core: ReturnType<typeof createCore>;
  try {
    core = createCore({
      dataDir,
      ...(port !== undefined ? { port } : {}),
      ...(bind ? { bind } : {}),
      logger,
      rendererDir,
      version: packageVersion(),
      // A mirror of huggingface.co/rhasspy/piper-voices (tests: a local fixture server).
      ...(process.env.UNAMENTIS_PIPER_VOICES_URL
        ? { piperVoicesUrl: process.env.UNAMENTIS_PIPER_VOICES_URL }
        : {}),
    });
  } catch (err) {
    logger.error((err as Error).message);
    process.exit(exitCodeFor(err));
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(EXIT.software);
    }, 30_000);
    force.unref();
    try {
      await notify.stopping();
      await core.stop('quit');
    } finally {
      process.exit(EXIT.ok);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));

  try {
    const { port: actual } = await core.start();
    logger.info('UnaMentis Server (headless) is running', { dataDir, port: actual });
    // The journal is readable by more people (adm, systemd-journal) than the 0600 token file.
    const url = core.dashboardUrl();
    console.log(
      `Dashboard: ${journal ? `${url.replace(/#.*/, '')} (token: ${path.join(dataDir, 'token')})` : url}`,
    );
    console.log(`Settings:  ${path.join(dataDir, 'settings.json')}`);
    await notify.ready(`serving on port ${actual}`);
  } catch (err) {
    // SIGTERM during start: the shutdown above stops what the start began and exits; exiting
    // here as well would end the process before the services are stopped.
    if (err instanceof CoreStoppedError) return;
    logger.error((err as Error).message);
    await core.stop('quit').catch(() => {});
    process.exit(exitCodeFor(err));
  }
}

void main();
