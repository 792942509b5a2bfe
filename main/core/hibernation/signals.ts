// Activity seen without a proxy. Pure: the runner feeds in what it polls and reads.
// Why these signals: see README.md in this folder.

export interface SeenModel {
  name: string;
  /** ISO time the model unloads by itself; null when unknown. */
  expiresAt: string | null;
}

/** Smaller moves of `expires_at` are rounding or clock noise, not a request. */
const EXPIRY_TOLERANCE_MS = 1000;

/**
 * Compares two readings of Ollama's /api/ps. A request to a model resets its keep-alive, so its
 * `expires_at` changes (usually forward; backward when a request with a shorter keep_alive hits a
 * model that was loaded "forever"); a request for a model not in memory loads it. Returns why it
 * counts as use, or null. A model that left (expired, unloaded) is not use.
 */
export function ollamaUse(prev: SeenModel[], next: SeenModel[]): string | null {
  const before = new Map(prev.map((m) => [m.name, m.expiresAt]));
  for (const m of next) {
    if (!before.has(m.name)) return `${m.name} was loaded`;
    const a = before.get(m.name) ?? null;
    const b = m.expiresAt;
    if (a === null || b === null) continue;
    const delta = Date.parse(b) - Date.parse(a);
    if (Number.isFinite(delta) && Math.abs(delta) > EXPIRY_TOLERANCE_MS)
      return `${m.name} was used (expires_at moved)`;
  }
  return null;
}

// uvicorn (VibeVoice):  INFO:     127.0.0.1:51234 - "POST /v1/audio/speech HTTP/1.1" 200 OK
// werkzeug (Piper):     127.0.0.1 - - [10/Jan/2026 12:00:00] "POST /synthesize HTTP/1.1" 200 -
const ACCESS_LINE = /"(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+"/;
// uvicorn websockets:   INFO:     ('127.0.0.1', 51234) - "WebSocket /stream" [accepted]
const WEBSOCKET_LINE = /"WebSocket (\S+)"\s*\[accepted\]/i;
// whisper-server:       Received request: speech.wav
const WHISPER_REQUEST = /^Received request: /;

/**
 * True when a line of a TTS/STT service's log records a client request that does work: any
 * POST/PUT (synthesis, transcription), an accepted WebSocket (streaming synthesis), or a GET
 * carrying text to speak (old Piper's `GET /?text=…`). Health probes and metadata GETs (/health,
 * /info, /voices) are ours or harmless, and do not count.
 */
export function requestInLog(text: string): boolean {
  if (WEBSOCKET_LINE.test(text)) return true;
  // whisper-server prints no access log, only this line per transcription (examples/server/server.cpp).
  if (WHISPER_REQUEST.test(text)) return true;
  const m = ACCESS_LINE.exec(text);
  if (!m) return false;
  const [, method, target] = m;
  if (method !== 'GET') return method !== 'DELETE';
  return /[?&]text=/.test(target!);
}
