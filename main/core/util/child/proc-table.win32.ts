// The process table on Windows: PowerShell (CIM) for processes and start times, `netstat` and
// `tasklist` for a port's holder. Windows has no process groups: pgid is the pid itself.

import { answersSignalZero, parseNetstat, type PortHolder, type ProcInfo } from './procs.js';
import { toolOutput } from './run-tool.js';

export async function listProcesses(): Promise<ProcInfo[]> {
  const text = await toolOutput(
    'powershell.exe',
    [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      'Get-CimInstance Win32_Process | ForEach-Object { "$($_.ProcessId) $($_.ParentProcessId) $($_.CreationDate.ToFileTimeUtc()) $($_.Name)" }',
    ],
    15_000,
  );
  return text
    .split(/\r?\n/)
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[0]!))
    .map((f) => ({
      pid: Number(f[0]),
      ppid: Number(f[1]),
      pgid: Number(f[0]),
      startTime: f[2]!,
      name: f.slice(3).join(' '),
    }));
}

export async function processStartTime(pid: number): Promise<string | null> {
  const text = await toolOutput('powershell.exe', [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    `$p = Get-CimInstance Win32_Process -Filter "ProcessId=${pid}"; if ($p) { $p.CreationDate.ToFileTimeUtc() }`,
  ]);
  return text.trim() || null;
}

/**
 * Not known: Win32_Process has no owner column (only the GetOwner method, a user name per process and
 * one more PowerShell), and Windows gives each user session its own processes anyway.
 */
export async function processOwner(_pid: number): Promise<number | null> {
  return null;
}

export const isAlive = answersSignalZero;

export async function portHolder(port: number): Promise<PortHolder | null> {
  const pid = parseNetstat(await toolOutput('netstat', ['-ano', '-p', 'tcp']), port);
  if (pid === null) return null;
  const csv = await toolOutput('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH']);
  const name = /^"([^"]+)"/.exec(csv.trim())?.[1] ?? null;
  return { pid, name };
}
