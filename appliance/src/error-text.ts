// One line for any thrown value: the CLI never prints "undefined" or an empty reason.
export function errorText(err: unknown): string {
  const first = (s: string) => s.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  if (err instanceof AggregateError && err.errors.length) {
    const inner = [...new Set(err.errors.map(errorText))];
    return first(err.message) || inner.join('; ');
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; address?: unknown; port?: unknown };
    const message = first(e.message);
    if (message) return message;
    const where = e.address ? ` (${e.address}${e.port ? `:${e.port}` : ''})` : '';
    if (typeof e.code === 'string') return `${e.code}${where}`;
    if (e.cause !== undefined) return errorText(e.cause);
    return `${e.name || 'Error'} without a message`;
  }
  if (typeof err === 'string') return first(err) || 'an empty error was thrown';
  if (err && typeof err === 'object') {
    const o = err as { message?: unknown; code?: unknown; error?: unknown };
    for (const v of [o.message, o.error, o.code]) if (typeof v === 'string' && first(v)) return first(v);
    try {
      return first(JSON.stringify(err)) || 'an unknown error';
    } catch {
      return 'an unknown error';
    }
  }
  if (err === undefined || err === null) return 'the command failed without giving a reason (an internal error)';
  return String(err);
}
