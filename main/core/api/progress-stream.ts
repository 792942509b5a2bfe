// A long job's progress as NDJSON lines (a model pull, a voice download): the answer's head, a
// line writer, and a signal that cancels the job when the client goes away, as `ollama pull` does
// on Ctrl-C.

import type http from 'node:http';

export interface ProgressStream {
  /** Aborted (reason: `cancelled`) when the client's connection closes before the end. */
  signal: AbortSignal;
  line(o: unknown): void;
  end(): void;
}

export function openProgressStream(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): ProgressStream {
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) abort.abort(new Error('cancelled'));
  };
  req.socket.on('close', onClose);
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  return {
    signal: abort.signal,
    line(o) {
      if (!res.writableEnded) res.write(JSON.stringify(o) + '\n');
    },
    end() {
      req.socket.off('close', onClose);
      res.end();
    },
  };
}
