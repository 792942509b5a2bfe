import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LineSplitter,
  LogRing,
  MAX_LINE_CHARS,
  RotatingFile,
} from '../../main/core/supervisor/logs.js';

describe('LineSplitter', () => {
  it('joins partial chunks, strips CR, flushes the rest', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l));
    s.push('hel');
    s.push('lo\r\nwor');
    s.push('ld\n\nlast');
    expect(out).toEqual(['hello', 'world', '']);
    s.flush();
    expect(out).toEqual(['hello', 'world', '', 'last']);
  });
  it('cuts a line that never ends instead of growing', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l));
    for (let i = 0; i < 10; i++) s.push('x'.repeat(1000));
    expect(out.length).toBeGreaterThan(0);
    expect(Math.max(...out.map((l) => l.length))).toBeLessThanOrEqual(MAX_LINE_CHARS + 1000);
  });
});

describe('LogRing', () => {
  it('keeps the newest lines up to capacity', () => {
    const r = new LogRing(3);
    for (let i = 0; i < 5; i++) r.push({ t: String(i), stream: 'stdout', text: `l${i}` });
    expect(r.size).toBe(3);
    expect(r.last(2).map((l) => l.text)).toEqual(['l3', 'l4']);
    expect(r.last(10).map((l) => l.text)).toEqual(['l2', 'l3', 'l4']);
    expect(r.last(0)).toEqual([]);
  });
});

describe('RotatingFile', () => {
  it('rotates at the size cap and keeps N old files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotlog-'));
    const file = path.join(dir, 'svc.log');
    const f = new RotatingFile(file, { maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 50; i++) {
      f.append(`${String(i).padStart(3, '0')} ${'x'.repeat(95)}`);
      f.flush();
    }
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(['svc.log', 'svc.log.1', 'svc.log.2']);
    for (const n of names) expect(fs.statSync(path.join(dir, n)).size).toBeLessThanOrEqual(1000);
    expect(fs.readFileSync(file, 'utf8')).toContain('049 ');
    expect(fs.readFileSync(`${file}.2`, 'utf8')).not.toContain('049 ');
  });
});

describe('LiveLogThrottle', () => {
  it('passes a burst, holds back a flood, then reports how many lines it held back', async () => {
    const { LiveLogThrottle } = await import('../../main/core/supervisor/logs.js');
    const t = new LiveLogThrottle(100, 200);
    let passed = 0;
    for (let i = 0; i < 1000; i++) if (t.take('piper', 0).pass) passed++;
    expect(passed).toBe(200);
    // Another service has its own budget.
    expect(t.take('ollama', 0)).toEqual({ pass: true, dropped: 0 });
    // 10 ms later one token is back: the first line through reports the 800 held back.
    expect(t.take('piper', 10)).toEqual({ pass: true, dropped: 800 });
    expect(t.take('piper', 10)).toEqual({ pass: false, dropped: 0 });
  });
});
