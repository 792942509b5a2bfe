// The one place that picks the OS's way to stop a tree (as Ollama's app/server picks
// server_unix.go or server_windows.go at build time): everything else asks `treeStop`.

import { posixTreeStop } from './tree-stop.posix.js';
import { win32TreeStop } from './tree-stop.win32.js';
import type { TreeStop } from './tree-stop.js';

export const treeStop: TreeStop = process.platform === 'win32' ? win32TreeStop : posixTreeStop;
