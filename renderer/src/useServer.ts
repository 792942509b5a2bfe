// One hook owns the connection: it resolves the API location and token, follows the event
// stream and exposes the latest snapshot to every panel.

import { useEffect, useMemo, useState } from 'react';
import type { LogLine, Snapshot } from '../../main/core/contract.js';
import { ApiClient, resolveConnection, saveToken } from './client.js';

export interface ServerState {
  client: ApiClient | null;
  snapshot: Snapshot | null;
  connected: boolean;
  hasToken: boolean;
  /** Recent log lines pushed over SSE, per service (bounded). */
  logs: Record<string, LogLine[]>;
  setToken(token: string): void;
}

const MAX_LOG_LINES = 500;

export function useServer(): ServerState {
  const [client, setClient] = useState<ApiClient | null>(null);
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [connected, setConnected] = useState(false);
  const [hasToken, setHasToken] = useState(false);
  const [logs, setLogs] = useState<Record<string, LogLine[]>>({});
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
    return client.subscribe(
      (e) => {
        if (e.type === 'snapshot') setSnapshot(e.data);
        else if (e.type === 'log') {
          setLogs((prev) => {
            const lines = [...(prev[e.data.service] ?? []), e.data.line].slice(-MAX_LOG_LINES);
            return { ...prev, [e.data.service]: lines };
          });
        }
      },
      (ok) => {
        setConnected(ok);
        setHasToken(client.hasToken);
      },
    );
  }, [client, generation]);

  return useMemo(
    () => ({
      client,
      snapshot,
      connected,
      hasToken,
      logs,
      setToken(token: string) {
        if (!client) return;
        saveToken(token);
        client.setToken(token);
        setHasToken(true);
        setGeneration((g) => g + 1);
      },
    }),
    [client, snapshot, connected, hasToken, logs],
  );
}
