// Errors the supervisor's callers can act on; the API maps `code` to its HTTP status.

export class SupervisorError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'bad_request',
    message: string,
  ) {
    super(message);
    this.name = 'SupervisorError';
  }
}
