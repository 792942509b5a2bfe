// Windows graceful stop, as Ollama's desktop app stops its server (app/server/server_windows.go):
// the steps and the helper's argv, checked without Windows.

import { describe, expect, it } from 'vitest';
import { consoleCtrlScript, windowsStopPlan } from '../../main/core/util/child/tree-stop.win32.js';

describe('Windows stop plan', () => {
  it('control event through a PowerShell helper, then a 10 ms poll for the stop timeout, then taskkill /F /T', () => {
    const plan = windowsStopPlan(4242, 5000, { ownConsole: false });
    expect(
      plan.map((s) => (s.kind === 'run' ? `${s.what}: ${s.file}` : `wait ${s.pollMs}/${s.upToMs}`)),
    ).toEqual(['console-ctrl: powershell.exe', 'wait 10/5000', 'kill: taskkill']);
    const ask = plan[0]!;
    if (ask.kind !== 'run') throw new Error('first step runs the helper');
    expect(ask.args.slice(0, 6)).toEqual([
      '-NoLogo',
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-EncodedCommand',
    ]);
    // -EncodedCommand is base64 of UTF-16LE: no quoting of the script through a command line.
    const script = Buffer.from(ask.args[6]!, 'base64').toString('utf16le');
    expect(script).toBe(consoleCtrlScript(4242));
    const calls = script.split('\n').filter((l) => l.includes('[UnaMentis.Kernel32]::'));
    expect(calls.map((l) => /::(\w+\([^)]*\))/.exec(l)![1])).toEqual([
      'FreeConsole()',
      'AttachConsole(4242)',
      'SetConsoleCtrlHandler([System.IntPtr]::Zero, $true)',
      'GenerateConsoleCtrlEvent(1, 0)',
      'GenerateConsoleCtrlEvent(0, 0)',
    ]);
    expect(plan[2]).toEqual({
      kind: 'run',
      what: 'kill',
      file: 'taskkill',
      args: ['/F', '/T', '/PID', '4242'],
    });
  });

  it('sharing a console with the children (headless in a terminal): the old close request, never an event that would reach us', () => {
    expect(windowsStopPlan(7, 1000, { ownConsole: true })[0]).toEqual({
      kind: 'run',
      what: 'close',
      file: 'taskkill',
      args: ['/PID', '7', '/T'],
    });
  });

  it('refuses a pid that is not one (it goes into a script)', () => {
    expect(() => consoleCtrlScript(0)).toThrow(/not a pid/);
    expect(() => consoleCtrlScript(1.5)).toThrow(/not a pid/);
  });
});
