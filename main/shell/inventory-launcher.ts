// The GPU inventory child as an Electron utility process, so release builds can turn the
// `runAsNode` fuse off (the headless core uses `node -e` instead).

import { utilityProcess } from 'electron';
import type { InventoryLauncher } from '../core/gpu/inventory.js';

export function utilityInventoryLauncher(workerPath: string): InventoryLauncher {
  return (env) => {
    const child = utilityProcess.fork(workerPath, [], { stdio: 'pipe', env, serviceName: 'UnaMentis GPU inventory' });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const ended = (s: NodeJS.ReadableStream | null) => new Promise<void>((r) => (s ? s.once('end', () => r()) : r()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      child.once('exit', (code) => {
        // 'exit' can come before the pipes are drained.
        void Promise.race([Promise.all([ended(child.stdout), ended(child.stderr)]), new Promise((r) => setTimeout(r, 500))]).then(() =>
          resolve({ code, stdout, stderr }),
        );
      });
    });
    return { done, kill: () => void child.kill() };
  };
}
