// Error vocabulary of off-site targets: one class, a code per failure kind, one-line messages that
// name the target ("backup target "storagebox": …") so an operator knows where to look.
import { AppError } from '../../../core/errors.ts';

export type TargetErrorCode =
  | 'target_unreachable'
  | 'target_auth_failed'
  | 'target_host_key_mismatch'
  | 'target_host_key_unpinned'
  | 'target_full'
  | 'target_missing'
  | 'target_permission_denied'
  | 'target_invalid_path'
  | 'target_failed';

const STATUS: Record<TargetErrorCode, number> = {
  target_unreachable: 502,
  target_auth_failed: 502,
  target_host_key_mismatch: 502,
  target_host_key_unpinned: 502,
  target_full: 507,
  target_missing: 404,
  target_permission_denied: 502,
  target_invalid_path: 400,
  target_failed: 502,
};

export class TargetError extends AppError {
  declare readonly code: TargetErrorCode;
  readonly target: string;
  constructor(code: TargetErrorCode, target: string, message: string, details?: Record<string, unknown>) {
    super(STATUS[code], code, `backup target "${target}": ${message}`, details);
    this.name = 'TargetError';
    this.target = target;
  }
}

const reasonOf = (cause: unknown) => {
  const e = cause as { code?: unknown; message?: string };
  const text = typeof e?.code === 'string' ? e.code : (e?.message ?? String(cause));
  return text.split('\n')[0];
};

export const unreachable = (target: string, where: string, cause: unknown) =>
  new TargetError('target_unreachable', target, `cannot reach ${where} (${reasonOf(cause)})`, { where });

export const authFailed = (target: string, user: string) =>
  new TargetError('target_auth_failed', target, `the server refused key authentication for user "${user}"`, { user });

export const hostKeyMismatch = (target: string, expected: string, presented: string) =>
  new TargetError('target_host_key_mismatch', target, `host key mismatch: the server presented ${presented}, the pinned key is ${expected}`, {
    expected,
    presented,
  });

export const hostKeyUnpinned = (target: string, presented: string) =>
  new TargetError('target_host_key_unpinned', target, `no host key fingerprint is pinned; the server presents ${presented} (verify it, then pin it)`, {
    presented,
  });

export const full = (target: string, path: string, detail: string) =>
  new TargetError('target_full', target, `no space left while writing ${path} (${detail})`, { path });

export const missing = (target: string, path: string) => new TargetError('target_missing', target, `${path} does not exist`, { path });

export const permissionDenied = (target: string, path: string) =>
  new TargetError('target_permission_denied', target, `permission denied for ${path}`, { path });

export const invalidPath = (target: string, path: string, reason: string) =>
  new TargetError('target_invalid_path', target, `invalid path "${path}": ${reason}`, { path });

export const failed = (target: string, operation: string, path: string, cause: unknown) =>
  new TargetError('target_failed', target, `${operation} ${path || '/'} failed (${reasonOf(cause)})`, { operation, path });
