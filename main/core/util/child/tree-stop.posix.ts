// Stopping a tree on Linux and macOS: every child starts as the leader of its own process group,
// so one signal to the group reaches grandchildren too (even those re-parented to init when their
// parent died). A pid we did not start is stopped by walking the process table.

import { descendants, listProcesses, signalPid } from './procs.js';
import type { TreeStop } from './tree-stop.js';

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export const posixTreeStop: TreeStop = {
  ownGroup: true,
  gentle: 'SIGTERM',
  ask(child) {
    child.kill('SIGTERM');
    return Promise.resolve();
  },
  killOwned(child) {
    if (child.pid && !signalGroup(child.pid, 'SIGKILL')) child.kill('SIGKILL');
    return Promise.resolve();
  },
  async killTree(pid) {
    // A snapshot first: killed first, a parent's children would be re-parented out of reach.
    for (const p of descendants(pid, await listProcesses())) signalPid(p.pid, 'SIGKILL');
    signalPid(pid, 'SIGKILL');
  },
  signalGroup,
};
