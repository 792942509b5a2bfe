// Domain errors: what went wrong, in the contract's error codes. Capabilities throw them; the API
// layer (api/errors.ts) turns them into an HTTP status and the contract's error body.

import type { ErrorCode } from './contract.js';

export class CoreError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request or settings field at fault. */
    readonly field?: string,
    /** The HTTP status when it is not the code's own: another host's or program's answer, passed on. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field?: string) =>
  new CoreError('bad_request', message, field);
