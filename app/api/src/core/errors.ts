// One error vocabulary: named factories, mapped to { error, message, details } by one middleware.
export interface FieldIssue {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldIssue[] | Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, details?: FieldIssue[] | Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: FieldIssue[]) => new AppError(400, 'bad_request', message, details);
export const validation = (field: string, message: string) =>
  new AppError(400, 'validation_failed', `${field}: ${message}`, [{ field, message }]);
export const validationMany = (issues: FieldIssue[]) =>
  new AppError(400, 'validation_failed', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
export const unauthenticated = (message = 'Authentication required') => new AppError(401, 'unauthenticated', message);
export const forbidden = (message = 'You do not have permission for this action') => new AppError(403, 'forbidden', message);
export const csrf = () => new AppError(403, 'csrf_failed', 'Missing or invalid CSRF token (header x-csrf-token)');
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) => new AppError(409, 'conflict', message, details);
export const payloadTooLarge = (limit: number) => new AppError(413, 'payload_too_large', `Request body exceeds ${limit} bytes`);
export const unsupportedMediaType = (expected: string) =>
  new AppError(415, 'unsupported_media_type', `Content-Type must be ${expected}`, [{ field: 'content-type', message: `expected ${expected}` }]);
export const tooManyRequests = (retryAfterSeconds: number) =>
  new AppError(429, 'too_many_requests', `Too many attempts, try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
export const sealed = () => new AppError(503, 'sealed', 'The server is sealed: an administrator must unseal it with the practice passphrase');
export const notInitialized = () => new AppError(409, 'not_initialized', 'Praxiskern is not set up yet: complete the first-run setup');

/** Maps PostgreSQL SQLSTATE codes to client errors; anything else stays a 500. */
export function fromPg(err: unknown): AppError | undefined {
  const e = err as { code?: string; column?: string; constraint?: string };
  if (typeof e?.code !== 'string' || e.code.length !== 5) return undefined;
  switch (e.code) {
    case '23505':
      return conflict('A record with these values already exists', e.constraint ? { constraint: e.constraint } : undefined);
    case '23503':
      return badRequest('A referenced record does not exist');
    case '23502':
      return validation(e.column ?? 'body', 'is required');
    case '22001':
      return validation(e.column ?? 'body', 'is too long');
    case '22P02':
    case '22007':
    case '22008':
      return badRequest('A value has the wrong format');
    case '42501':
      return forbidden('The database refused this operation');
    default:
      return undefined;
  }
}
