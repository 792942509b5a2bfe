// "Waiting for the phone": which request came from another device. The front door reports each
// request that does work as activity with its source ("piper request from 192.168.1.20"); a
// service reached directly (not through the front door) is seen in its access lines, as
// hibernation reads them (Ollama's GIN log, Piper's werkzeug log, VibeVoice's uvicorn log). Pure.

// Ollama (gin):       [GIN] 2026/01/10 - 12:00:00 | 200 |  1.2ms |  192.168.1.20 | POST     "/v1/chat/completions"
const GIN = /^\[GIN\][^|]*\|\s*\d{3}\s*\|[^|]*\|\s*([0-9a-fA-F.:]+)\s*\|\s*([A-Z]+)\s+"([^"]+)"/;
// uvicorn (VibeVoice): INFO:     192.168.1.20:51234 - "POST /v1/audio/speech HTTP/1.1" 200 OK
const UVICORN = /^INFO:\s+(\[?[0-9a-fA-F.:]+?\]?):\d+ - "([A-Z]+) (\S+) HTTP/;
// werkzeug (Piper):   192.168.1.20 - - [10/Jan/2026 12:00:00] "POST /synthesize HTTP/1.1" 200 -
const WERKZEUG = /^([0-9a-fA-F.:]+) - - \[[^\]]*\] "([A-Z]+) (\S+) HTTP/;

/** This host's own addresses (a Set will do; the core passes a cache, see setup/index.ts). */
export interface OwnAddresses {
  has(address: string): boolean;
}

export interface SeenRequest {
  from: string;
  method: string;
  path: string;
}

/** The client, method and path of an access line, or null for any other line. */
export function accessOf(line: string): SeenRequest | null {
  const m = GIN.exec(line) ?? UVICORN.exec(line) ?? WERKZEUG.exec(line);
  if (!m) return null;
  return {
    from: m[1]!.replace(/^\[|\]$/g, '').replace(/^::ffff:/, ''),
    method: m[2]!,
    path: m[3]!,
  };
}

/**
 * A request from the phone: any request to a service port from an address that is not this
 * host's own (its own are this app's health checks, the latency check, the GPU poller). The
 * app's first calls are GET /api/tags and /api/version (Settings' connection check), so a GET counts.
 */
export function phoneRequest(line: string, own: OwnAddresses): SeenRequest | null {
  const r = accessOf(line);
  if (!r || own.has(r.from)) return null;
  return r;
}

/** The front door's activity source: `<service> request from <client>[ (gateway)]`. */
const SOURCE = /^([a-z][a-z0-9-]*) request from (\S+?)( \(gateway\))?$/;

export function phoneFromSource(
  source: string,
  own: OwnAddresses,
): { service: string; from: string } | null {
  const m = SOURCE.exec(source);
  if (!m || m[2] === 'unknown') return null;
  const from = m[2]!.replace(/^::ffff:/, '');
  return own.has(from) ? null : { service: m[1]!, from };
}
