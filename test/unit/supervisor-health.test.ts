import { describe, expect, it } from 'vitest';
import { healthEchoPattern, judge, type Answer } from '../../main/core/supervisor/health.js';

const ok = (status: number, body: unknown): Answer => ({
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const refused: Answer = { error: 'connection refused on port 1' };

describe('judge', () => {
  it('Ollama: "Ollama is running", then /api/version', () => {
    expect(judge('ollama', [])).toEqual({ next: '/' });
    expect(judge('ollama', [ok(200, 'Ollama is running')])).toEqual({ next: '/api/version' });
    expect(judge('ollama', [ok(200, 'Ollama is running'), ok(200, { version: '0.12.6' })])).toEqual(
      {
        done: { state: 'ok', message: null, version: '0.12.6' },
      },
    );
    expect(judge('ollama', [ok(200, 'Ollama is running'), ok(500, 'x')])).toMatchObject({
      done: { state: 'error' },
    });
    expect(judge('ollama', [ok(200, '<html>nginx</html>')])).toMatchObject({
      done: { state: 'foreign' },
    });
    expect(judge('ollama', [refused])).toMatchObject({
      done: { state: 'down', message: refused.error },
    });
  });

  it('VibeVoice: 200 AND model_loaded true; false is an error with the message', () => {
    expect(judge('vibevoice', [ok(200, { status: 'ok', model_loaded: true })])).toMatchObject({
      done: { state: 'ok' },
    });
    expect(
      judge('vibevoice', [ok(200, { model_loaded: false, error: 'CUDA out of memory' })]),
    ).toEqual({
      done: { state: 'error', message: 'the model is not loaded: CUDA out of memory' },
    });
    expect(judge('vibevoice', [ok(503, {})])).toMatchObject({ done: { state: 'loading' } });
    expect(judge('vibevoice', [ok(200, 'hello')])).toMatchObject({ done: { state: 'foreign' } });
    expect(judge('vibevoice', [ok(404, 'nope')])).toMatchObject({ done: { state: 'foreign' } });
  });

  it('Piper: /info (1.5+) or /voices (older)', () => {
    expect(judge('piper', [ok(200, { version: '1.5.0' })])).toMatchObject({
      done: { state: 'ok' },
    });
    expect(judge('piper', [ok(404, 'Not Found')])).toEqual({ next: '/voices' });
    expect(judge('piper', [ok(404, 'Not Found'), ok(200, { en_US: {} })])).toMatchObject({
      done: { state: 'ok' },
    });
    expect(judge('piper', [ok(404, 'Not Found'), ok(404, 'x')])).toMatchObject({
      done: { state: 'foreign' },
    });
    // piper-tts 1.2 has neither route: Flask's own 404 page for /voices says it is a Flask app on Piper's port.
    const flask404 =
      '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
    expect(judge('piper', [ok(404, flask404), ok(404, flask404)])).toMatchObject({
      done: { state: 'ok', version: expect.stringMatching(/^1\.2/) },
    });
  });

  it('Whisper: 503 while loading, then {"status":"ok"}', () => {
    expect(judge('whisper', [ok(503, { status: 'loading model' })])).toEqual({
      done: { state: 'loading', message: 'loading model' },
    });
    expect(judge('whisper', [ok(200, { status: 'ok' })])).toMatchObject({ done: { state: 'ok' } });
    expect(judge('whisper', [ok(200, 'hi')])).toMatchObject({ done: { state: 'foreign' } });
  });

  it('user-added http services: any 2xx', () => {
    expect(judge('http', [ok(204, '')])).toMatchObject({ done: { state: 'ok' } });
    expect(judge('http', [ok(500, 'boom')])).toMatchObject({ done: { state: 'error' } });
    expect(judge('http', [refused])).toMatchObject({ done: { state: 'down' } });
  });
});

describe('healthEchoPattern', () => {
  it('matches the access-log lines of our own health checks only', () => {
    const o = healthEchoPattern('ollama');
    expect(
      o.test(
        '[GIN] 2026/11/23 - 19:07:31 | 200 |        4.117ms |       127.0.0.1 | GET     "/api/version"',
      ),
    ).toBe(true);
    expect(
      o.test('[GIN] 2026/11/23 - 19:07:31 | 200 |        0.264ms |       127.0.0.1 | GET     "/"'),
    ).toBe(true);
    expect(
      o.test(
        '[GIN] 2026/11/23 - 19:07:31 | 200 |  1.2s |       127.0.0.1 | POST    "/api/generate"',
      ),
    ).toBe(false);
    expect(o.test('[GIN] 2026/11/23 - 19:07:31 | 200 |  1.2ms |  192.168.1.20 | GET     "/"')).toBe(
      false,
    ); // the iPhone
    expect(o.test('time=… level=INFO msg="Listening on 127.0.0.1:11434"')).toBe(false);
    const v = healthEchoPattern('vibevoice');
    expect(v.test('INFO:     127.0.0.1:50312 - "GET /health HTTP/1.1" 200 OK')).toBe(true);
    expect(v.test('INFO:     127.0.0.1:50312 - "POST /v1/audio/speech HTTP/1.1" 200 OK')).toBe(
      false,
    );
    const p = healthEchoPattern('piper');
    expect(p.test('127.0.0.1 - - [23/Nov/2026 19:00:00] "GET /info HTTP/1.1" 200 -')).toBe(true);
    expect(healthEchoPattern('http', '/ping?x=1').test('::1 "GET /ping?x=1 HTTP/1.1"')).toBe(true);
  });
});
