import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  descendants,
  parseLsof,
  parseNetstat,
  parseProcStat,
  parseSs,
  treeOf,
  type ProcInfo,
} from '../../main/core/util/child/procs.js';
import { planReap, PidFiles, type PidRecord } from '../../main/core/supervisor/pidfile.js';

const p = (pid: number, ppid: number, pgid: number, startTime = `t${pid}`): ProcInfo => ({
  pid,
  ppid,
  pgid,
  startTime,
});

describe('parseProcStat', () => {
  it('reads ppid, pgrp and start time even when the name has spaces and parentheses', () => {
    const line =
      '4242 (my (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 987654 123456 789';
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      ppid: 1,
      pgid: 4242,
      startTime: '987654',
      name: 'my (weird) name',
      state: 'S',
    });
  });
  it('reads this very process from /proc on Linux', () => {
    if (process.platform !== 'linux') {
      console.log('skipped: /proc exists only on Linux');
      return;
    }
    const me = parseProcStat(fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8'));
    expect(me?.pid).toBe(process.pid);
    expect(me?.ppid).toBe(process.ppid);
  });
});

describe('process trees', () => {
  // 100 = ollama (group leader), 101 = runner, 102 = runner's child, 103 = orphaned runner
  // (re-parented to 1, still in group 100), 200 = unrelated, 201 = its child.
  const procs = [
    p(1, 0, 1),
    p(100, 50, 100),
    p(101, 100, 100),
    p(102, 101, 100),
    p(103, 1, 100),
    p(200, 1, 200),
    p(201, 200, 200),
  ];

  it('descendants follow parent links', () => {
    expect(
      descendants(100, procs)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([101, 102]);
  });
  it('treeOf adds the process group (orphans re-parented to init)', () => {
    expect(
      treeOf(100, procs, true)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([100, 101, 102, 103]);
    expect(
      treeOf(100, procs, false)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([100, 101, 102]);
  });
  it('a dead leader still has its group', () => {
    const withoutLeader = procs.filter((x) => x.pid !== 100);
    expect(
      treeOf(100, withoutLeader, true)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([101, 102, 103]);
  });
});

describe('port holders', () => {
  it('parses ss -ltnpH', () => {
    const text =
      'LISTEN 0      511        127.0.0.1:11434      0.0.0.0:*    users:(("ollama",pid=4242,fd=3))\nLISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))';
    expect(parseSs(text, 11434)).toEqual({ pid: 4242, name: 'ollama' });
    expect(parseSs(text, 114)).toBeNull();
    expect(parseSs('LISTEN 0 511 [::]:8880 [::]:*', 8880)).toEqual({ pid: null, name: null });
  });
  it('parses lsof -Fpc', () => {
    expect(parseLsof('p4242\ncollama\nf3\n')).toEqual({ pid: 4242, name: 'ollama' });
    expect(parseLsof('')).toBeNull();
  });
  it('parses netstat -ano', () => {
    const text =
      '  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    0.0.0.0:11434          0.0.0.0:0              LISTENING       9876\r\n  TCP    127.0.0.1:11434        127.0.0.1:50000        ESTABLISHED     9876';
    expect(parseNetstat(text, 11434)).toBe(9876);
    expect(parseNetstat(text, 8880)).toBeNull();
  });
});

describe('planReap', () => {
  const rec: PidRecord = {
    v: 1,
    service: 'ollama',
    pid: 100,
    pgid: 100,
    startTime: 't100',
    command: '/usr/bin/ollama',
    startedAt: '2026-01-01T00:00:00Z',
    appPid: 42,
    appStartTime: 'app',
  };
  const procs = [p(100, 1, 100), p(101, 100, 100), p(103, 1, 100), p(200, 1, 200)];

  it('reaps the recorded process, its children and its group', () => {
    const plan = planReap(rec, procs, false, true);
    expect(plan.action).toBe('reap');
    expect(plan.action === 'reap' && plan.pids.sort()).toEqual([100, 101, 103]);
  });
  it('never touches a process that reused the pid (different start time)', () => {
    const reused = [p(100, 1, 100, 'someone-else'), p(101, 100, 100)];
    const plan = planReap(rec, reused, false, true);
    expect(plan).toMatchObject({ action: 'skip' });
    expect(plan.reason).toContain('another process');
  });
  it('reaps orphans of a dead leader by group', () => {
    const plan = planReap(rec, [p(103, 1, 100), p(200, 1, 200)], false, true);
    expect(plan).toMatchObject({ action: 'reap', pids: [103] });
  });
  it('skips everything while the app that started it is alive', () => {
    expect(planReap(rec, procs, true, true)).toMatchObject({ action: 'skip' });
  });
  it('skips when nothing is left', () => {
    expect(planReap(rec, [p(200, 1, 200)], false, true)).toMatchObject({
      action: 'skip',
      reason: 'nothing of it is left',
    });
  });
});

describe('PidFiles', () => {
  it('writes, reads and removes records; drops unreadable files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pidfiles-'));
    const files = new PidFiles(dir);
    const rec: PidRecord = {
      v: 1,
      service: 'piper',
      pid: 7,
      pgid: 7,
      startTime: 's',
      command: 'c',
      startedAt: 'x',
      appPid: 1,
      appStartTime: null,
    };
    files.write(rec);
    fs.writeFileSync(path.join(dir, 'junk.pid'), '{not json');
    expect(files.readAll()).toEqual([rec]);
    expect(fs.existsSync(path.join(dir, 'junk.pid'))).toBe(false);
    files.remove('piper');
    expect(files.readAll()).toEqual([]);
  });
});
