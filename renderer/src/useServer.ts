// One hook owns the connection: it resolves the API location and token, follows the event
// stream and exposes the latest snapshot (plus the recent GPU history and live log lines) to
// every panel.

import { useEffect, useMemo, useRef, useState } from 'react';
import type { LogLine, Snapshot } from '../../main/core/contract.js';
import { ApiClient, resolveConnection, saveToken, type GpuHistoryPoint } from './client.js';

export interface GpuSample {
  /** Epoch ms. */
  t: number;
  /** Used MB per GPU, in snapshot order. */
  used: number[];
  total: number[];
}

/**
 * When each time-dependent figure was last fresh (epoch ms). A snapshot arrives whenever any
 * section changes, so a service's uptime or the hibernation countdown in it may be older than the
 * snapshot: views tick from the moment the figure itself last changed.
 */
export interface Stamps {
  services: Record<string, number>;
  hibernation: number;
  pairing: number;
}

export function updateStamps(
  prev: Stamps,
  before: Snapshot | null,
  after: Snapshot,
  now: number,
): Stamps {
  const services: Record<string, number> = {};
  for (const svc of after.services) {
    const old = before?.services.find((x) => x.id === svc.id);
    const same =
      old &&
      old.uptimeSeconds === svc.uptimeSeconds &&
      old.status === svc.status &&
      old.pid === svc.pid &&
      old.nextRestartInSeconds === svc.nextRestartInSeconds;
    services[svc.id] = same && prev.services[svc.id] !== undefined ? prev.services[svc.id]! : now;
  }
  const hibSame =
    before && JSON.stringify(before.hibernation) === JSON.stringify(after.hibernation);
  const pairSame =
    before && JSON.stringify(before.pairing ?? null) === JSON.stringify(after.pairing ?? null);
  return {
    services,
    hibernation: hibSame ? prev.hibernation : now,
    pairing: pairSame ? prev.pairing : now,
  };
}

export interface ServerState {
  client: ApiClient | null;
  snapshot: Snapshot | null;
  /** When the snapshot arrived (epoch ms). */
  receivedAt: number;
  /** When each ticking figure was last fresh: see Stamps. */
  stamps: Stamps;
  connected: boolean;
  hasToken: boolean;
  /** Live log lines pushed over SSE since the page opened, per service (bounded). */
  logs: Record<string, LogLine[]>;
  /** The last 10 minutes of VRAM use (server history, then one sample per snapshot). */
  gpuHistory: GpuSample[];
  setToken(token: string): void;
}

const MAX_LOG_LINES = 2000;
export const GPU_WINDOW_MS = 10 * 60_000;

/** Accepts the log event as `{service, line}` or `{service, t, stream, text}`. */
function parseLogEvent(data: unknown): { service: string; line: LogLine } | null {
  const d = data as { service?: unknown; line?: LogLine } & Partial<LogLine>;
  if (typeof d?.service !== 'string') return null;
  const line =
    d.line ??
    (typeof d.text === 'string'
      ? { t: d.t ?? new Date().toISOString(), stream: d.stream ?? 'stdout', text: d.text }
      : null);
  return line ? { service: d.service, line } : null;
}

export function sampleFromSnapshot(s: Snapshot, fallbackTime: number): GpuSample | null {
  if (!s.gpu.gpus.length || s.gpu.gpus.every((g) => g.vramUsedMB === null)) return null;
  const t = s.gpu.sampledAt ? Date.parse(s.gpu.sampledAt) : fallbackTime;
  if (!Number.isFinite(t)) return null;
  return {
    t,
    used: s.gpu.gpus.map((g) => g.vramUsedMB ?? 0),
    total: s.gpu.gpus.map((g) => g.vramTotalMB),
  };
}

export function sampleFromHistory(p: GpuHistoryPoint, totals: number[] = []): GpuSample | null {
  if (!Number.isFinite(p.t) || !Array.isArray(p.usedMB) || p.usedMB.every((v) => v === null))
    return null;
  return { t: p.t, used: p.usedMB.map((v) => v ?? 0), total: totals };
}

/** Adds a sample in time order (no duplicate times) and drops what is older than the window. */
export function addSample(
  history: GpuSample[],
  s: GpuSample,
  windowMs = GPU_WINDOW_MS,
): GpuSample[] {
  if (history.some((h) => h.t === s.t)) return history;
  const next = [...history, s].sort((a, b) => a.t - b.t);
  const cutoff = next[next.length - 1]!.t - windowMs;
  return next.filter((h) => h.t >= cutoff);
}

export function useServer(): ServerState {
  const [client, setClient] = useState<ApiClient | null>(null);
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [receivedAt, setReceivedAt] = useState(0);
  const [stamps, setStamps] = useState<Stamps>({ services: {}, hibernation: 0, pairing: 0 });
  const lastSnapshot = useRef<Snapshot | null>(null);
  const [connected, setConnected] = useState(false);
  const [hasToken, setHasToken] = useState(false);
  const [logs, setLogs] = useState<Record<string, LogLine[]>>({});
  const [gpuHistory, setGpuHistory] = useState<GpuSample[]>([]);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    void resolveConnection().then(({ baseUrl, token }) => {
      if (cancelled) return;
      const c = new ApiClient(baseUrl, token);
      setClient(c);
      setHasToken(c.hasToken);
    });
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    if (!client) return;
    let cancelled = false;
    client
      .gpuHistory()
      .then((points) => {
        if (cancelled) return;
        setGpuHistory((h) =>
          points
            .map((p) => sampleFromHistory(p))
            .reduce<GpuSample[]>((acc, s) => (s ? addSample(acc, s) : acc), h),
        );
      })
      .catch(() => {});
    const stop = client.subscribe(
      (e) => {
        if (e.type === 'snapshot') {
          const now = Date.now();
          const before = lastSnapshot.current;
          lastSnapshot.current = e.data;
          setSnapshot(e.data);
          setReceivedAt(now);
          setStamps((st) => updateStamps(st, before, e.data, now));
          // The snapshot carries the last few points (none lost between snapshots) and the current one.
          const totals = e.data.gpu.gpus.map((g) => g.vramTotalMB);
          const samples = [
            ...(e.data.gpu.recent ?? []).map((p) => sampleFromHistory(p, totals)),
            sampleFromSnapshot(e.data, now),
          ];
          setGpuHistory((h) =>
            samples.reduce<GpuSample[]>((acc, x) => (x ? addSample(acc, x) : acc), h),
          );
        } else if (e.type === 'log') {
          const ev = parseLogEvent(e.data);
          if (!ev) return;
          setLogs((prev) => {
            const lines = [...(prev[ev.service] ?? []), ev.line].slice(-MAX_LOG_LINES);
            return { ...prev, [ev.service]: lines };
          });
        }
      },
      (ok) => {
        setConnected(ok);
        setHasToken(client.hasToken);
      },
    );
    return () => {
      cancelled = true;
      stop();
    };
  }, [client, generation]);

  return useMemo(
    () => ({
      client,
      snapshot,
      receivedAt,
      stamps,
      connected,
      hasToken,
      logs,
      gpuHistory,
      setToken(token: string) {
        if (!client) return;
        saveToken(token);
        client.setToken(token);
        setHasToken(true);
        setGeneration((g) => g + 1);
      },
    }),
    [client, snapshot, receivedAt, stamps, connected, hasToken, logs, gpuHistory],
  );
}
