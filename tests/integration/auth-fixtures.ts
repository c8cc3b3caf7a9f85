// Shared set-up for the auth tests: local accounts created through the admin API and enrolled
// through their one-time link (as the person would), sign-in with TOTP, and an owner connection
// to look at (or time-travel) rows the API role cannot see.
import { randomBytes } from 'node:crypto';
import { createDb, withScope, type Db } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import type { Role } from '../../app/api/src/core/permissions.ts';
import { currentTotp, type TestApp } from '../helpers/app.ts';
import { Client, type Response } from '../helpers/http-client.ts';

export interface LocalAccount {
  id: string;
  username: string;
  password: string;
  totpSecret: string;
  recoveryCodes: string[];
}

/** The token in an enrollment link's fragment (…/enroll#TOKEN). */
export const tokenOf = (url: string) => new URL(url).hash.slice(1);

/**
 * Enrolls through a link as its holder: begin, choose the password, confirm the authenticator with
 * the previous step's code (so a sign-in with offset 0 right after is not a replay).
 */
export async function enroll(base: string, url: string, password: string, client: Client = new Client(base)) {
  const token = tokenOf(url);
  const begin = await client.post('/api/v1/enrollment/begin', { token });
  if (begin.status !== 200) throw new Error(`enrollment begin: ${begin.status} ${begin.text}`);
  const totpSecret = begin.body.totpSecret as string;
  // The server accepts one step either side: near the end of a step, the previous step's code would
  // be two steps old by the time a loaded machine checks it, so wait for the next step to begin.
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep > 25) await new Promise((r) => setTimeout(r, (30 - intoStep) * 1000 + 200));
  const done = await client.post('/api/v1/enrollment/complete', { token, password, totpSecret, totpCode: currentTotp(totpSecret, -1) });
  if (done.status !== 200) throw new Error(`enrollment complete: ${done.status} ${done.text}`);
  return { client, begin: begin.body, totpSecret, recoveryCodes: done.body.recoveryCodes as string[], loginName: done.body.user.loginName as string };
}

export async function createAccount(admin: Client, roles: Role[], prefix = 'user'): Promise<LocalAccount> {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const password = `pw ${randomBytes(9).toString('base64url')}`;
  const res = await admin.post('/api/v1/users', { username, displayName: `Test ${prefix}`, roles });
  if (res.status !== 201) throw new Error(`creating ${username} failed: ${res.status} ${res.text}`);
  const enrolled = await enroll(admin.base, res.body.enrollment.url, password);
  // Enrollment signs the person in; the tests start from an account without sessions.
  mustSucceed(await enrolled.client.post('/api/v1/auth/logout'), 'logout after enrollment');
  return { id: res.body.user.id, username, password, totpSecret: enrolled.totpSecret, recoveryCodes: enrolled.recoveryCodes };
}

/**
 * Signs in with password + TOTP. Codes are computed at call time; use offset 0 for the first and
 * +1 for a second sign-in of the same account (each TOTP step is accepted once).
 */
export async function signIn(app: TestApp, a: LocalAccount, opts: { offset?: number; client?: Client; body?: Record<string, unknown> } = {}) {
  const client = opts.client ?? app.client();
  const body = opts.body ?? { username: a.username, password: a.password, totp: currentTotp(a.totpSecret, opts.offset ?? 0) };
  const res = await client.post('/api/v1/auth/local/login', body);
  return { client, res };
}

export function mustSucceed(res: Response, what: string): void {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
}

const owners = new WeakMap<TestApp, Db>();

/** The owner role bypasses row-level security: only tests use it to inspect and time-travel. */
export function ownerDb(app: TestApp): Db {
  let db = owners.get(app);
  if (!db) owners.set(app, (db = createDb(app.db.ownerUrl, 2)));
  return db;
}

export async function closeOwner(app: TestApp): Promise<void> {
  await owners.get(app)?.destroy();
  owners.delete(app);
}

export async function auditRows(app: TestApp, where: Record<string, unknown>) {
  return ownerDb(app)('audit_log').where(where).orderBy('id');
}

export async function countRows(app: TestApp, table: string, where: Record<string, unknown>): Promise<number> {
  const row = await ownerDb(app)(table).where(where).count<{ n: string }[]>('* as n').first();
  return Number(row?.n ?? 0);
}

/** Counters are process-wide: tests that compare them run serially (ava runs those first). */
export async function loginCounter(app: TestApp, method: string, outcome: string): Promise<number> {
  const m = await app.services.metrics.logins.get();
  return m.values.find((v) => v.labels.method === method && v.labels.outcome === outcome)?.value ?? 0;
}

/** Stops an app started by a test file and drops its database; safe when set-up failed half-way. */
export async function stopApp(app: TestApp | undefined): Promise<void> {
  if (!app) return;
  await closeOwner(app);
  await app.stop();
  await app.db.drop();
}

/** A client with a session issued directly (no sign-in) for this user, organization and roles. */
export async function sessionAs(app: TestApp, organizationId: string, userId: string, roles: Role[]): Promise<Client> {
  const issued = await withScope(app.services.db, { organizationId, userId }, (trx) => createSession(trx, app.config, { organizationId, userId, roles, method: 'local' }));
  const client = app.client();
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return client;
}
