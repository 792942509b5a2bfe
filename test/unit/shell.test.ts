// The shell's plain-Node parts: the Linux autostart entry, the powerSaveBlocker adapter, OS power
// events → core.suspend/resume, and the command-line switch. No Electron needed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  autostartPath,
  desktopEntry,
  entryEnabled,
  quoteExecArg,
  XdgAutostart,
} from '../../main/shell/login-item.js';
import { ElectronPowerBlocker } from '../../main/shell/power-blocker.js';
import { PowerEvents } from '../../main/shell/power-events.js';
import { sectionFromArgv } from '../../main/shell/args.js';

describe('XDG autostart (Linux start at login)', () => {
  it('lives in $XDG_CONFIG_HOME/autostart, else ~/.config/autostart', () => {
    expect(autostartPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe(
      '/x/cfg/autostart/unamentis-server.desktop',
    );
    expect(autostartPath({}, '/home/u')).toBe('/home/u/.config/autostart/unamentis-server.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe(
      '/home/u/.config/autostart/unamentis-server.desktop',
    );
  });

  it('quotes Exec arguments the way the Desktop Entry spec says', () => {
    expect(quoteExecArg('/opt/UnaMentis/unamentis-server')).toBe('/opt/UnaMentis/unamentis-server');
    expect(quoteExecArg('/home/u/Apps/UnaMentis Server.AppImage')).toBe(
      '"/home/u/Apps/UnaMentis Server.AppImage"',
    );
    expect(quoteExecArg('a"b$c`d')).toBe('"a\\\\"b\\\\$c\\\\`d"');
    // A literal backslash inside a quoted argument takes four backslashes.
    expect(quoteExecArg('C:\\x y')).toBe('"C:\\\\\\\\x y"');
    expect(quoteExecArg('100%')).toBe('100%%');
    expect(quoteExecArg('')).toBe('""');
  });

  it('writes an entry that starts the app, reads it back, and removes it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autostart-'));
    const file = path.join(dir, 'autostart', 'unamentis-server.desktop');
    const item = new XdgAutostart({
      name: 'UnaMentis Server',
      exec: ['/apps/UnaMentis Server.AppImage'],
      icon: 'unamentis-server',
      file,
    });
    expect(item.get()).toBe(false);
    item.set(true);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('[Desktop Entry]');
    expect(text).toContain('Type=Application\n');
    expect(text).toContain('Exec="/apps/UnaMentis Server.AppImage"\n');
    expect(text).toContain('Name=UnaMentis Server\n');
    expect(item.get()).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['unamentis-server.desktop']); // no temp file left
    // A user who disabled it in their desktop's settings (Hidden=true) has it off.
    fs.writeFileSync(file, text.replace('Terminal=false', 'Hidden=true\nTerminal=false'));
    expect(item.get()).toBe(false);
    item.set(false);
    expect(fs.existsSync(file)).toBe(false);
    item.set(false); // idempotent
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps each key on one line', () => {
    const e = desktopEntry({ name: 'Evil\nExec=rm -rf ~', exec: ['/a'] });
    expect(e.split('\n').filter((l) => l.startsWith('Exec='))).toEqual(['Exec=/a']);
    expect(entryEnabled('[Desktop Entry]\nX-GNOME-Autostart-enabled=false\n')).toBe(false);
  });
});

describe('powerSaveBlocker adapter', () => {
  it('starts one prevent-app-suspension blocker and stops it once', () => {
    const calls: string[] = [];
    const started = new Set<number>();
    let next = 7;
    const psb = {
      start: (type: 'prevent-app-suspension' | 'prevent-display-sleep') => {
        calls.push(`start ${type}`);
        started.add(next);
        return next++;
      },
      stop: (id: number) => {
        calls.push(`stop ${id}`);
        started.delete(id);
        return true;
      },
      isStarted: (id: number) => started.has(id),
    };
    const b = new ElectronPowerBlocker(psb);
    expect(b.held).toBe(false);
    b.acquire('serving');
    b.acquire('serving again');
    expect(b.held).toBe(true);
    b.release();
    b.release();
    expect(b.held).toBe(false);
    b.acquire('active');
    void b.dispose();
    expect(calls).toEqual([
      'start prevent-app-suspension',
      'stop 7',
      'start prevent-app-suspension',
      'stop 8',
    ]);
  });
});

describe('OS power events', () => {
  it('suspend → core.suspend, resume → core.resume, in order, and a failure does not stop the next', async () => {
    const pm = new EventEmitter();
    const order: string[] = [];
    let slow: () => void = () => {};
    const core = {
      suspend: () =>
        new Promise<void>((r) => {
          order.push('suspend start');
          slow = () => {
            order.push('suspend done');
            r();
          };
        }),
      resume: async () => {
        order.push('resume');
        throw new Error('network down');
      },
    };
    const logged: string[] = [];
    let shutdown = 0;
    const ev = new PowerEvents(
      pm,
      core,
      (m) => logged.push(m),
      () => shutdown++,
    );
    pm.emit('suspend');
    pm.emit('resume');
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['suspend start']); // resume waits for the goodbye
    slow();
    await ev.idle();
    expect(order).toEqual(['suspend start', 'suspend done', 'resume']);
    expect(logged).toContain('handling OS resume failed');
    pm.emit('shutdown');
    expect(shutdown).toBe(1);
    // Electron passes an Event: preventDefault asks the OS to wait for the cleanup (powerMonitor docs).
    let prevented = false;
    pm.emit('shutdown', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(shutdown).toBe(2);
    ev.dispose();
    expect(
      pm.listenerCount('suspend') + pm.listenerCount('resume') + pm.listenerCount('shutdown'),
    ).toBe(0);
  });
});

describe('command line', () => {
  it('reads --dashboard[=section] and refuses odd sections', () => {
    expect(sectionFromArgv(['/app', '--dashboard=pairing'])).toBe('pairing');
    expect(sectionFromArgv(['/app', '--dashboard=services/ollama/logs'])).toBe(
      'services/ollama/logs',
    );
    expect(sectionFromArgv(['/app', '--dashboard'])).toBe('');
    expect(sectionFromArgv(['/app', '--dashboard=javascript:alert(1)'])).toBe('');
    expect(sectionFromArgv(['/app'])).toBeUndefined();
  });
});
