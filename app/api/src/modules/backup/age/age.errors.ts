// Error vocabulary of the age implementation: one class, one code per failure kind, one-line messages.
import { AppError } from '../../../core/errors.ts';

export type AgeErrorCode =
  | 'age_invalid_key'
  | 'age_invalid_armor'
  | 'age_invalid_header'
  | 'age_no_match'
  | 'age_header_mac'
  | 'age_payload_corrupt';

export class AgeError extends AppError {
  declare readonly code: AgeErrorCode;
  constructor(code: AgeErrorCode, message: string, details?: Record<string, unknown>) {
    super(code === 'age_invalid_key' ? 400 : 422, code, message, details);
    this.name = 'AgeError';
  }
}

/** A recipient or identity string that is not a valid age X25519 key. */
export const invalidKey = (reason: string) => new AgeError('age_invalid_key', `invalid age key: ${reason}`);

/** ASCII armor that breaks the strict PEM rules of the spec. */
export const invalidArmor = (reason: string) => new AgeError('age_invalid_armor', `invalid age armor: ${reason}`);

/** The header does not parse (or is structurally wrong for its recipient type). */
export const invalidHeader = (reason: string) => new AgeError('age_invalid_header', `invalid age header: ${reason}`);

/** None of the given identities can unwrap any recipient stanza (wrong key). */
export const noMatch = (reason = 'no identity matches any recipient stanza') => new AgeError('age_no_match', reason);

/** A file key was unwrapped but the header MAC does not match: the header was altered. */
export const headerMacMismatch = () =>
  new AgeError('age_header_mac', 'file is truncated or altered (header MAC does not match)');

/** A payload chunk does not authenticate (1-based chunk number), or the STREAM framing is wrong. */
export const payloadCorrupt = (chunk: number, what = 'failed authentication') =>
  new AgeError('age_payload_corrupt', `file is truncated or altered (chunk ${chunk} ${what})`, { chunk });
