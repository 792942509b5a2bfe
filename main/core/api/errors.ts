// Errors in the contract's form: {"error": {"code", "message"}} with a matching status. The API
// layer maps the kernel's domain errors (main/core/errors.ts) to these.

import type { ErrorBody, ErrorCode } from '../contract.js';
import { CoreError } from '../errors.js';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  timeout: 504,
  internal: 500,
  service_unavailable: 503,
  bad_gateway: 502,
};

/** A domain error as the API answers it: the code's status (or the one passed on) and the body. */
export class HttpError extends CoreError {
  declare readonly status: number;
  constructor(code: ErrorCode, message: string, field?: string, status?: number) {
    super(code, message, field, status ?? STATUS[code]);
  }

  /** Any domain error thrown below the API, mapped to HTTP. */
  static of(e: CoreError): HttpError {
    return e instanceof HttpError ? e : new HttpError(e.code, e.message, e.field, e.status);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
      },
    };
  }
}

export { badRequest } from '../errors.js';
