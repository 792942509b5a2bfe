// "Waiting for the phone": the access lines of Ollama (gin), VibeVoice (uvicorn) and Piper
// (werkzeug) as the real servers print them, and which count as the phone.

import { describe, expect, it } from 'vitest';
import { accessOf, phoneFromSource, phoneRequest } from '../../main/core/setup/phone.js';
import { cachedOwnAddresses } from '../../main/core/setup/index.js';

const own = new Set(['127.0.0.1', '::1', '192.168.1.10']);

describe('phone requests in service logs', () => {
  it('reads the client of each server format', () => {
    expect(
      accessOf(
        '[GIN] 2026/01/10 - 12:00:00 | 200 |    1.234ms |    192.168.1.20 | POST     "/v1/chat/completions"',
      ),
    ).toEqual({
      from: '192.168.1.20',
      method: 'POST',
      path: '/v1/chat/completions',
    });
    expect(
      accessOf('INFO:     192.168.1.21:51234 - "POST /v1/audio/speech HTTP/1.1" 200 OK'),
    ).toEqual({ from: '192.168.1.21', method: 'POST', path: '/v1/audio/speech' });
    expect(
      accessOf('192.168.1.22 - - [10/Jan/2026 12:00:00] "GET /voices HTTP/1.1" 200 -'),
    ).toEqual({ from: '192.168.1.22', method: 'GET', path: '/voices' });
    expect(
      accessOf(
        '[GIN] 2026/01/10 - 12:00:00 | 200 |  10µs |  ::ffff:192.168.1.23 | GET      "/api/tags"',
      )?.from,
    ).toBe('192.168.1.23');
    expect(accessOf('INFO: Model loaded')).toBeNull();
  });

  it("this host's own requests (health checks, latency check) are not the phone", () => {
    expect(
      phoneRequest('[GIN] 2026/01/10 - 12:00:00 | 200 | 1ms | 127.0.0.1 | GET      "/api/ps"', own),
    ).toBeNull();
    expect(
      phoneRequest(
        '192.168.1.10 - - [10/Jan/2026 12:00:00] "POST /synthesize HTTP/1.1" 200 -',
        own,
      ),
    ).toBeNull();
    expect(
      phoneRequest(
        '[GIN] 2026/01/10 - 12:00:00 | 200 | 1ms | 192.168.1.20 | GET      "/api/version"',
        own,
      )?.path,
    ).toBe('/api/version');
  });

  it("reads the front door's activity source", () => {
    expect(phoneFromSource('piper request from 192.168.1.20', own)).toEqual({
      service: 'piper',
      from: '192.168.1.20',
    });
    expect(phoneFromSource('ollama request from ::ffff:192.168.1.21 (gateway)', own)).toEqual({
      service: 'ollama',
      from: '192.168.1.21',
    });
    expect(phoneFromSource('ollama request from 127.0.0.1', own)).toBeNull();
    expect(phoneFromSource('ollama request from unknown', own)).toBeNull();
    expect(phoneFromSource('piper request finished', own)).toBeNull();
    expect(phoneFromSource('user: service.start', own)).toBeNull();
  });
});

describe('cachedOwnAddresses', () => {
  it('reads the interfaces once for the host’s own addresses, again only for an unknown one', () => {
    let reads = 0;
    let addresses = ['127.0.0.1', '192.168.1.10'];
    const own = cachedOwnAddresses(() => {
      reads++;
      return new Set(addresses);
    });
    for (let i = 0; i < 1000; i++) expect(own.has('127.0.0.1')).toBe(true);
    expect(reads).toBe(1);
    // The phone: not ours, so the interfaces are read again before deciding.
    expect(own.has('192.168.1.20')).toBe(false);
    expect(reads).toBe(2);
    // An address this host gained since is recognised as its own, not taken for the phone.
    addresses = [...addresses, '10.0.0.5'];
    expect(own.has('10.0.0.5')).toBe(true);
    expect(reads).toBe(3);
    expect(phoneFromSource('piper request from 127.0.0.1', own)).toBeNull();
    expect(reads).toBe(3);
  });
});
