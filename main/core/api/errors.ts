// Errors in the contract's form: {"error": {"code", "message"}} with a matching status.

import type { ErrorBody, ErrorCode } from '../contract.js';

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

export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? STATUS[code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const badRequest = (message: string, field?: string) => new HttpError('bad_request', message, field);
export const notFound = (message = 'Not found') => new HttpError('not_found', message);
export const conflict = (message: string) => new HttpError('conflict', message);
