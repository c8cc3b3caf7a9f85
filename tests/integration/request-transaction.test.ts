// One transaction per request (issue 9, item 2): the database round trips of a typical
// authenticated read, counted at the pg client, and what the shared transaction must still keep:
// a read whose audit entry cannot be written fails whole, a service's error rolls back the request,
// another scope never joins it.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import pg from 'pg';
import { createDb, withScope, type Tx } from '../../app/api/src/db/connection.ts';
import { requestTransaction } from '../../app/api/src/db/request-transaction.ts';
import { currentContext } from '../../app/api/src/core/context.ts';
import { sessionScopeStatement } from '../../app/api/src/modules/auth/session.service.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { newOrganization, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let userId: string;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId, userId } = await setupInstance(app));
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

/** Every query the pg client sends on behalf of the request with this id (one call = one round trip). */
function recordQueries(requestId: string): { sent: string[]; stop(): void } {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
    if (currentContext()?.requestId === requestId && text) sent.push(text.replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return { sent, stop: () => (pg.Client.prototype.query = original) };
}

async function createPatient(): Promise<{ id: string; givenName: string }> {
  const p = samplePatient();
  const res = await admin.post('/api/v1/patients', p);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return { id: res.body.patient.id, givenName: p.givenName as string };
}

test.serial('opening a patient record costs three round trips: session with BEGIN, the record with its wrapped key, audit entry with COMMIT', async (t) => {
  const patient = await createPatient();
  const requestId = randomUUID();
  const rec = recordQueries(requestId);
  let res;
  try {
    res = await admin.get(`/api/v1/patients/${patient.id}`, { 'x-request-id': requestId });
  } finally {
    rec.stop();
  }
  t.is(res.status, 200);
  t.is(res.body.patient.givenName, patient.givenName);
  // The wrapped data key comes with the patient row (joined), so there is no separate key look-up.
  const rest = rec.sent;
  t.is(rest.length, 3, rec.sent.join('\n'));
  t.regex(rest[0], /^BEGIN; select \* from auth_request_scope\(/);
  t.regex(rest[1], /from patients p left join data_keys k/);
  t.regex(rest[2], /^set local synchronous_commit = off; insert into "audit_log" .*; COMMIT$/);
});

test.serial('a read whose audit entry cannot be written fails as a whole and shows no patient data', async (t) => {
  const patient = await createPatient();
  const owner = createDb(app.db.ownerUrl, 1);
  const before = await owner('audit_log').where({ object_id: patient.id, action: 'patient.read' }).count<{ count: string }[]>('* as count');
  // The audit table refuses this patient's read entries as a full disk would (SQLSTATE 53100).
  await owner.raw(`
    create function test_refuse_read() returns trigger language plpgsql as $$
    begin
      if new.object_id = '${patient.id}' and new.action = 'patient.read' then
        raise exception 'could not extend file' using errcode = '53100';
      end if;
      return new;
    end $$;
    create trigger test_refuse_read before insert on audit_log for each row execute function test_refuse_read();`);
  try {
    const res = await admin.get(`/api/v1/patients/${patient.id}`);
    t.is(res.status, 500);
    t.false(res.text.includes(patient.givenName));
  } finally {
    await owner.raw('drop trigger test_refuse_read on audit_log; drop function test_refuse_read()');
  }
  const after = await owner('audit_log').where({ object_id: patient.id, action: 'patient.read' }).count<{ count: string }[]>('* as count');
  t.is(after[0].count, before[0].count);
  const again = await admin.get(`/api/v1/patients/${patient.id}`);
  t.is(again.status, 200);
  await owner.destroy();
});

const scopeOpening = (org: string, user: string) =>
  `select set_config('app.org_id', '${org}', true), set_config('app.user_id', '${user}', true)`;

test.serial('a service asking for another organization gets a transaction of its own, never the request\'s', async (t) => {
  const other = await newOrganization(app, `other-${randomUUID().slice(0, 8)}`);
  const db = app.services.db;
  const seen = await requestTransaction(db, scopeOpening(organizationId, userId), async (_rows, bind) => {
    bind({ organizationId, userId });
    let requestTrx: Tx | undefined;
    const own = await withScope(db, { organizationId, userId, readOnly: true }, async (trx) => {
      requestTrx = trx;
      return (await trx.raw("select current_setting('app.org_id') as org, txid_current() as txid")).rows[0];
    });
    const foreign = await withScope(db, { organizationId: other, userId }, async (trx) => {
      t.not(trx, requestTrx);
      return (await trx.raw("select current_setting('app.org_id') as org, txid_current() as txid")).rows[0];
    });
    const installation = await withScope(db, { organizationId: null, userId, installation: true }, async (trx) => {
      t.not(trx, requestTrx);
      return (await trx.raw("select current_setting('app.installation') as installation")).rows[0];
    });
    // The request transaction kept its scope after the others ran.
    const still = (await requestTrx!.raw("select current_setting('app.org_id') as org, current_setting('app.installation', true) as installation")).rows[0];
    return { own, foreign, installation, still };
  });
  t.is(seen.own.org, organizationId);
  t.is(seen.foreign.org, other);
  t.not(seen.foreign.txid, seen.own.txid);
  t.is(seen.installation.installation, 'on');
  t.is(seen.still.org, organizationId);
  t.not(seen.still.installation, 'on');
});

test.serial('an error inside a joined service rolls the whole request back, even when a caller catches it', async (t) => {
  const db = app.services.db;
  const name = `rolled-back-${randomUUID().slice(0, 8)}`;
  const err = await t.throwsAsync(requestTransaction(db, scopeOpening(organizationId, userId), async (_rows, bind) => {
    bind({ organizationId, userId });
    await withScope(db, { organizationId, userId, readOnly: true }, (trx) => trx('users').where({ id: userId }).update({ display_name: name }));
    await withScope(db, { organizationId, userId, readOnly: true }, async () => {
      throw new Error('refused after the write');
    }).catch(() => undefined);
    return 'answered';
  }));
  t.is(err?.message, 'refused after the write');
  const owner = createDb(app.db.ownerUrl, 1);
  const row = await owner('users').where({ id: userId }).first('display_name');
  await owner.destroy();
  t.not(row.display_name, name);
});

test.serial('a service\'s write scope is committed when withScope returns, before the service acts on it outside the database', async (t) => {
  const db = app.services.db;
  const name = `committed-${randomUUID().slice(0, 8)}`;
  const owner = createDb(app.db.ownerUrl, 1);
  const displayName = async () => (await owner('users').where({ id: userId }).first('display_name')).display_name;
  try {
    const err = await t.throwsAsync(requestTransaction(db, scopeOpening(organizationId, userId), async (_rows, bind) => {
      bind({ organizationId, userId });
      await withScope(db, { organizationId, userId }, (trx) => trx('users').where({ id: userId }).update({ display_name: name }));
      // What a service does next (a ledger file, deleting blobs) sees the change committed.
      t.is(await displayName(), name);
      // A later scope of the same request runs in a transaction of its own.
      const later = await withScope(db, { organizationId, userId, readOnly: true }, async (trx) => (await trx.raw("select current_setting('app.org_id') as org")).rows[0].org);
      t.is(later, organizationId);
      throw new Error('the request fails afterwards');
    }));
    t.is(err?.message, 'the request fails afterwards');
    t.is(await displayName(), name, 'as before, a committed step stays committed');
  } finally {
    await owner.destroy();
  }
});

test.serial('a request whose session is due for the idle-timeout touch does not wait for a parallel request of the same session', async (t) => {
  const owner = createDb(app.db.ownerUrl, 1);
  const token = admin.cookies.get('pk_session')!;
  const dueForTouch = () => owner('sessions').where({ user_id: userId }).update({ idle_expires_at: new Date(Date.now() + 5 * 60_000) });
  await dueForTouch();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let opened!: () => void;
  const touched = new Promise<void>((r) => (opened = r));
  // A first request touches the session row and keeps its transaction open.
  const first = requestTransaction(app.services.db, sessionScopeStatement(app.config, token)!, async (rows) => {
    t.is(rows.length, 1);
    opened();
    await held;
  });
  try {
    await touched;
    const second = await Promise.race([
      admin.get('/api/v1/audit?limit=1'),
      new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5_000)),
    ]);
    t.not(second, 'waited');
    t.is(second !== 'waited' && second.status, 200);
  } finally {
    release();
    await first;
    await owner.destroy();
  }
});
