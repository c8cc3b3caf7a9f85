// One request context (AsyncLocalStorage): request id, logger, user, organization.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { rootLogger } from './logger.ts';
import type { InstallationRole, Role } from './permissions.ts';

export interface Actor {
  userId: string;
  organizationId: string;
  roles: Role[];
  /** Installation roles (operator), read live from installation_operators on every request. */
  installationRoles?: InstallationRole[];
  /** The organization's time zone (IANA), read with the session: "today" is its calendar day. */
  timeZone?: string;
  sessionId: string;
}

export interface RequestContext {
  requestId: string;
  ip: string | undefined;
  userAgent: string | undefined;
  logger: Logger;
  actor: Actor | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function log(): Logger {
  return storage.getStore()?.logger ?? rootLogger;
}

/** The organization's default time zone until an administrator sets another (appointments settings). */
export const DEFAULT_TIME_ZONE = 'Europe/Berlin';

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** A calendar day (YYYY-MM-DD) of an instant in a time zone (the one function for it; appointments' localDay too). */
export function dayIn(zone: string, at: Date = new Date()): string {
  let f = dayFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, f);
  }
  return f.format(at);
}

/**
 * Today in the requesting organization's time zone (the practice's calendar day, not UTC's: just
 * after midnight in Berlin UTC is still in the day before); the default zone outside a session.
 */
export function practiceToday(at: Date = new Date()): string {
  return dayIn(storage.getStore()?.actor?.timeZone ?? DEFAULT_TIME_ZONE, at);
}

/** For CLI and background jobs: a context without an HTTP request. */
export function systemContext(name: string, actor?: Actor): RequestContext {
  return { requestId: `${name}-${Date.now().toString(36)}`, ip: undefined, userAgent: name, logger: rootLogger.child({ job: name }), actor };
}
