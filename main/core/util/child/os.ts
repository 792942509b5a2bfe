// The one place that picks the OS's sibling files (as Ollama's app/server builds server_unix.go or
// server_windows.go): how to stop a tree (tree-stop.posix.ts / tree-stop.win32.ts) and how to read
// the process table (proc-table.linux.ts / proc-table.darwin.ts / proc-table.win32.ts). Everything
// else asks `treeStop` and `procTable`.
//
// The siblings are held as module namespaces and read when called: procs.ts and this file import
// each other, and a namespace is safe to hold before its module has run.

import * as posixStop from './tree-stop.posix.js';
import * as win32Stop from './tree-stop.win32.js';
import * as linuxTable from './proc-table.linux.js';
import * as darwinTable from './proc-table.darwin.js';
import * as win32Table from './proc-table.win32.js';
import type { ProcTable, TreeStop } from './tree-stop.js';

const stop = process.platform === 'win32' ? win32Stop : posixStop;
const table =
  process.platform === 'win32'
    ? win32Table
    : process.platform === 'linux'
      ? linuxTable
      : darwinTable;

export const treeStop: TreeStop = {
  get ownGroup() {
    return stop.OWN_GROUP;
  },
  get gentle() {
    return stop.GENTLE;
  },
  ask: (child, timeoutMs) => stop.ask(child, timeoutMs),
  killOwned: (child) => stop.killOwned(child),
  killTree: (pid) => stop.killTree(pid),
  signalGroup: (pgid, signal) => stop.signalGroup(pgid, signal),
};

export const procTable: ProcTable = {
  listProcesses: () => table.listProcesses(),
  processStartTime: (pid) => table.processStartTime(pid),
  isAlive: (pid) => table.isAlive(pid),
  portHolder: (port) => table.portHolder(port),
  processOwner: (pid) => table.processOwner(pid),
};
