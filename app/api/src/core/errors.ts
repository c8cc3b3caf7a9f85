// One error vocabulary: named factories, mapped to { error, message, details } by one middleware.
export interface FieldIssue {
  field: string;
  /** English, for API users and logs; the UI shows the translation of `code` instead. */
  message: string;
  /**
   * Machine code the UI translates (validation.code.<code>): required, too_short, too_long,
   * too_small, too_large, invalid_type, invalid_format, invalid_option, unknown_field,
   * invalid_characters, invalid_date, future_date, implausible_age, invalid_phone, email,
   * taken, invalid_value … Filled with 'invalid' by the error middleware when a call site gives none.
   */
  code?: string;
  /** The bound behind too_short/too_long/too_small/too_large, shown in the translated text. */
  limit?: number;
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
export const validation = (field: string, message: string, code?: string) =>
  new AppError(400, 'validation_failed', `${field}: ${message}`, [{ field, message, ...(code ? { code } : {}) }]);
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

const invalidValue = (field: string | undefined, code: string, message: string) =>
  new AppError(400, 'validation_failed', `${field ?? 'body'}: ${message}`, [{ field: field ?? 'body', code, message }]);

/**
 * Maps PostgreSQL SQLSTATE codes to client errors: every data exception (class 22) and every
 * integrity violation (class 23) is caused by the values a client sent, so it is a 4xx. The
 * answer names the column where PostgreSQL reports one and never carries SQL or the server's text.
 * Anything else (including permission and connection errors) stays a logged 500.
 */
export function fromPg(err: unknown): AppError | undefined {
  const e = err as { code?: string; column?: string; constraint?: string; severity?: string };
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || typeof e.severity !== 'string') return undefined;
  switch (e.code) {
    case '23505':
      return conflict('A record with these values already exists', e.constraint ? { constraint: e.constraint } : undefined);
    case '23503':
      return badRequest('A referenced record does not exist', [{ field: e.column ?? 'body', code: 'not_found', message: 'refers to a record that does not exist' }]);
    case '23502':
      return invalidValue(e.column, 'required', 'is required');
    case '23P01':
    case '23001':
      return conflict('The change conflicts with existing records');
    case '22001':
      return invalidValue(e.column, 'too_long', 'is too long');
    case '22021':
    case '22P05':
      return invalidValue(e.column, 'invalid_characters', 'contains characters that cannot be stored');
    case '22003':
      return invalidValue(e.column, 'out_of_range', 'is out of range');
    case '22P02':
    case '22007':
    case '22008':
      return invalidValue(e.column, 'invalid_format', 'has the wrong format');
    case '42501':
      return forbidden('The database refused this operation');
    default:
      if (e.code.startsWith('22')) return invalidValue(e.column, 'invalid_value', 'is not a valid value');
      if (e.code.startsWith('23')) return invalidValue(e.column, 'invalid_value', 'violates a rule for stored data');
      return undefined;
  }
}
