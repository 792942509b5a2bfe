// The Ollama desktop app's facts as pure functions: its process name, its server log's settings line,
// and how it is asked to quit.

import { describe, expect, it } from 'vitest';
import {
  desktopAppPort,
  desktopServerLog,
  findDesktopApp,
  isDesktopAppName,
  parseServerConfig,
  quitDesktopAppStep,
} from '../../main/core/services/ollama-desktop.js';
import { desktopHooks, type DesktopDeps } from '../../main/core/supervisor/ollama-desktop.js';
import { parseOwner } from '../../main/core/util/child/procs.js';

describe('Ollama desktop app', () => {
  it('tells the app (Ollama, ollama app.exe) from its server (ollama)', () => {
    expect(isDesktopAppName('/Applications/Ollama.app/Contents/MacOS/Ollama')).toBe(true);
    expect(isDesktopAppName('Ollama.exe')).toBe(true);
    expect(isDesktopAppName('ollama app.exe')).toBe(true);
    expect(isDesktopAppName('ollama')).toBe(false);
    expect(isDesktopAppName('ollama.exe')).toBe(false);
    expect(isDesktopAppName('/Applications/Ollama.app/Contents/Resources/ollama')).toBe(false);
    expect(
      findDesktopApp([
        { pid: 5, name: 'ollama' },
        { pid: 7, name: 'Ollama' },
      ]),
    ).toEqual({ pid: 7, name: 'Ollama' });
  });

  it('reads the model folder and context length from the "server config" line (a Windows path with spaces)', () => {
    // As Ollama 0.12.7 logged it on Windows (ollama/ollama#12640), with a user folder holding a space.
    const line =
      'time=2025-10-29T21:44:11.691-04:00 level=INFO source=routes.go:1524 msg="server config" env="map[CUDA_VISIBLE_DEVICES: HTTPS_PROXY: OLLAMA_CONTEXT_LENGTH:16384 OLLAMA_DEBUG:DEBUG-4 OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_KEEP_ALIVE:5m0s OLLAMA_MODELS:C:\\\\Users\\\\Jo Doe\\\\models OLLAMA_MULTIUSER_CACHE:false OLLAMA_ORIGINS:[http://localhost app://*] ROCR_VISIBLE_DEVICES:]"';
    expect(parseServerConfig(`older\n${line}\nlater line`)).toEqual({
      modelsDir: 'C:\\Users\\Jo Doe\\models',
      contextLength: 16384,
    });
    expect(
      parseServerConfig('msg="server config" env="map[OLLAMA_CONTEXT_LENGTH:0 OLLAMA_MODELS:]"'),
    ).toEqual({ modelsDir: null, contextLength: null });
    expect(parseServerConfig('nothing here')).toBeNull();
  });

  it('knows where the app writes its server log and how to ask it to quit', () => {
    expect(desktopServerLog('darwin', {}, '/Users/u')).toBe('/Users/u/.ollama/logs/server.log');
    expect(
      desktopServerLog('win32', { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'C:\\Users\\u'),
    ).toBe('C:\\Users\\u\\AppData\\Local\\Ollama\\server.log');
    expect(desktopServerLog('linux', {}, '/home/u')).toBeNull();
    expect(quitDesktopAppStep(42, 'darwin')).toEqual({ signal: 'SIGTERM' });
    expect(quitDesktopAppStep(42, 'win32')).toEqual({ file: 'taskkill', args: ['/PID', '42'] });
  });

  it("reads the app's port from its environment (OLLAMA_HOST), else Ollama's 11434", () => {
    expect(desktopAppPort('HOME=/Users/u\0OLLAMA_HOST=127.0.0.1:40111\0PATH=/usr/bin')).toBe(40111);
    expect(desktopAppPort('OLLAMA_HOST=http://0.0.0.0:8000')).toBe(8000);
    expect(desktopAppPort('OLLAMA_HOST=0.0.0.0\0')).toBe(11434);
    expect(desktopAppPort(null)).toBe(11434);
  });

  it("only this user's app counts where processes have owners (a shared Mac or Linux box)", () => {
    const procs = [
      { pid: 5, name: 'ollama', uid: 501 },
      { pid: 7, name: 'Ollama', uid: 502 }, // another user's app
      { pid: 9, name: 'Ollama', uid: 501 },
    ];
    expect(findDesktopApp(procs, 501)).toEqual({ pid: 9, name: 'Ollama', uid: 501 });
    expect(findDesktopApp(procs, 503)).toBeNull();
    // An owner we could not read (the process is gone) is not ours.
    expect(findDesktopApp([{ pid: 7, name: 'Ollama', uid: null }], 501)).toBeNull();
    // Windows: no owners in the table, no uid of ours: the name alone, as before.
    expect(findDesktopApp([{ pid: 7, name: 'Ollama.exe' }], null)).toEqual({
      pid: 7,
      name: 'Ollama.exe',
    });
    expect(parseOwner('  501\n')).toBe(501);
    expect(parseOwner('')).toBeNull();
  });

  it("another user's running app neither blocks our own Ollama nor is quit on Take over", async () => {
    const logs: string[] = [];
    const deps = (over: Partial<DesktopDeps>): DesktopDeps => ({
      platform: 'darwin',
      listProcesses: async () => [
        { pid: 40, name: 'Ollama' },
        { pid: 41, name: 'ollama' },
      ],
      serverLog: null,
      log: (t) => logs.push(t),
      options: () => ({}),
      setOptions: () => {},
      quitTimeoutMs: 100,
      port: () => 11434,
      environOf: () => null,
      uid: 501,
      ownerOf: async (pid) => (pid === 40 ? 502 : 501),
      ...over,
    });
    const theirs = desktopHooks(deps({}));
    expect(await theirs.ownStartBlocked()).toBeNull();
    await theirs.beforeTakeOver(); // nothing to quit: it would have signalled pid 40 and waited
    expect(logs).toEqual([]);
    const ours = desktopHooks(deps({ ownerOf: async () => 501 }));
    expect(await ours.ownStartBlocked()).toMatch(/desktop app is running \(pid 40\)/);
    // Windows: no owner to compare, the app by its name blocks as before.
    const win = desktopHooks(deps({ platform: 'win32', uid: null, ownerOf: async () => null }));
    expect(await win.ownStartBlocked()).toMatch(/pid 40/);
  });
});
