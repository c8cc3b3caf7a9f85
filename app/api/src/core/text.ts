// Text that PostgreSQL, the JSON columns and the UI can hold. A NUL byte, another C0 control
// character (tab, line feed and carriage return are kept: multi-line notes use them), DEL or a
// lone UTF-16 surrogate is refused at the edge with a 400 naming the field path, before any
// service or database sees it (PostgreSQL answers 22021/22P05 to NUL, and a lone surrogate
// would silently become U+FFFD).
import { validationMany, type FieldIssue } from './errors.ts';

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Whether a string is text worth storing: well-formed UTF-16 without control characters. */
export function isCleanText(s: string): boolean {
  return s.isWellFormed() && !CONTROL.test(s);
}

function issue(field: string, s: string): FieldIssue {
  const message = s.includes('\u0000') ? 'contains a NUL byte' : s.isWellFormed() ? 'contains a control character' : 'contains invalid Unicode (a lone surrogate)';
  return { field, code: 'invalid_characters', message };
}

/**
 * Every string (and object key) inside a value, walked without recursion so a deeply nested
 * JSON document cannot exhaust the stack; returns the first offending field path.
 */
export function findInvalidText(value: unknown, prefix: string): FieldIssue | undefined {
  const stack: [unknown, string][] = [[value, prefix]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isCleanText(v)) return issue(path, v);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}.${i}`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        const childPath = path ? `${path}.${key}` : key;
        if (!isCleanText(key)) return issue(childPath, key);
        stack.push([child, childPath]);
      }
    }
  }
  return undefined;
}

/** Throws 400 validation_failed naming the field when any string in the value is not clean text. */
export function assertCleanText(value: unknown, prefix: string): void {
  const found = findInvalidText(value, prefix);
  if (found) throw validationMany([found]);
}
