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

/** For CLI and background jobs: a context without an HTTP request. */
export function systemContext(name: string, actor?: Actor): RequestContext {
  return { requestId: `${name}-${Date.now().toString(36)}`, ip: undefined, userAgent: name, logger: rootLogger.child({ job: name }), actor };
}
