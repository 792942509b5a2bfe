// The GPU inventory child as an Electron utility process, so release builds can turn the
// `runAsNode` fuse off (the headless core uses `node -e` instead).

import { utilityProcess } from 'electron';
import { treeStop } from '../core/util/child/index.js';
import type { InventoryLauncher } from '../core/gpu/inventory.js';

/** How long the pipes may stay open after 'exit' (a grandchild that inherited them can hold them). */
const DRAIN_AFTER_EXIT_MS = 5_000;

export function utilityInventoryLauncher(workerPath: string): InventoryLauncher {
  return (env) => {
    // The core sets ELECTRON_RUN_AS_NODE for its `node -e` child. A utility process is the Electron
    // binary started with `--type=utility`: with that variable it starts as plain Node and exits at once.
    const { ELECTRON_RUN_AS_NODE: _runAsNode, ...childEnv } = env;
    const child = utilityProcess.fork(workerPath, [], {
      stdio: 'pipe',
      env: childEnv,
      serviceName: 'UnaMentis GPU inventory',
    });
    let stdout = '';
    let stderr = '';
    // Listen for the ends from the start: they may come before 'exit' (then a late listener waits
    // for nothing) or after it (output written just before exiting is still on its way).
    const ended = (s: NodeJS.ReadableStream | null) =>
      new Promise<void>((r) => (s ? s.once('end', () => r()).once('close', () => r()) : r()));
    const drained = Promise.all([ended(child.stdout), ended(child.stderr)]);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // `pid` is undefined before 'spawn' and again after 'exit': keep it for the kill.
    let pid: number | undefined;
    child.once('spawn', () => (pid = child.pid));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      child.once('exit', (code) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((r) => (timer = setTimeout(r, DRAIN_AFTER_EXIT_MS)));
        void Promise.race([drained, late]).then(() => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    });
    return {
      done,
      // The whole tree: systeminformation runs nvidia-smi as a child, and a hung one must die too.
      // The utility process dies last: killed first, its children would be re-parented out of reach.
      kill: () => {
        if (pid) void treeStop.killTree(pid).finally(() => child.kill());
        else child.kill();
      },
    };
  };
}
