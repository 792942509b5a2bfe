// Pairing's domain errors, mapped by the API layer to the same HTTP status and JSON body as before
// they were pairing's own (docs/api.md: what another host and the dashboard see).

import { describe, expect, it } from 'vitest';
import { httpOf } from '../../main/core/api/routes/pairing.js';
import { PairingError, type PairingErrorKind } from '../../main/core/pairing/errors.js';

const CASES: [PairingErrorKind, number, string][] = [
  ['invalid', 400, 'bad_request'],
  ['unauthenticated', 401, 'unauthorized'],
  ['locked', 403, 'forbidden'],
  ['unknown', 404, 'not_found'],
  ['conflict', 409, 'conflict'],
  ['unreachable', 504, 'timeout'],
  ['failed', 500, 'internal'],
];

describe('pairing errors over HTTP', () => {
  it.each(CASES)('%s → %i %s, with the message and field', (kind, status, code) => {
    const e = httpOf(new PairingError(kind, 'The code is 6 digits.', 'code'));
    expect(e.status).toBe(status);
    expect(e.toBody()).toEqual({
      error: { code, message: 'The code is 6 digits.', field: 'code' },
    });
  });

  it('no field: the body has none', () => {
    expect(
      httpOf(new PairingError('conflict', 'A host cannot pair with itself.')).toBody(),
    ).toEqual({
      error: { code: 'conflict', message: 'A host cannot pair with itself.' },
    });
  });

  it("the other host's error passes on with its own code and status", () => {
    const e = httpOf(
      new PairingError('peer', 'Wrong code. 4 attempt(s) left.', undefined, {
        code: 'unauthorized',
        status: 401,
      }),
    );
    expect(e.status).toBe(401);
    expect(e.toBody()).toEqual({
      error: { code: 'unauthorized', message: 'Wrong code. 4 attempt(s) left.' },
    });
  });
});
