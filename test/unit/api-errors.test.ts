// Capabilities throw the kernel's domain errors (main/core/errors.ts); the API layer maps them to
// the contract's HTTP status and body.

import { describe, expect, it } from 'vitest';
import { badRequest, CoreError } from '../../main/core/errors.js';
import { HttpError } from '../../main/core/api/errors.js';

describe('domain errors to HTTP', () => {
  it("maps a code to the contract's status and body", () => {
    const e = HttpError.of(
      new CoreError('conflict', 'Ollama is stopped: start it first (Services).'),
    );
    expect(e.status).toBe(409);
    expect(e.toBody()).toEqual({
      error: { code: 'conflict', message: 'Ollama is stopped: start it first (Services).' },
    });
    expect(HttpError.of(new CoreError('timeout', 'x')).status).toBe(504);
  });

  it('keeps the field and a status passed on from another host or program', () => {
    expect(HttpError.of(badRequest('port must be a number', 'port')).toBody()).toEqual({
      error: { code: 'bad_request', message: 'port must be a number', field: 'port' },
    });
    const passedOn = HttpError.of(
      new CoreError('internal', 'Could not ask Ollama for its models', undefined, 502),
    );
    expect(passedOn.status).toBe(502);
    expect(passedOn.toBody().error.code).toBe('internal');
  });

  it('leaves an HttpError as it is, and an HttpError is a domain error', () => {
    const h = new HttpError('not_found', 'No such endpoint');
    expect(HttpError.of(h)).toBe(h);
    expect(h).toBeInstanceOf(CoreError);
    expect(h.status).toBe(404);
  });
});
