// User management without a developer (issue 12, item 5) and the audit page's API (item 7):
// partial resets through one-time links (the old secret stops working when the link is issued),
// the otpauth label, organization boundaries, own password change, name/e-mail edits, last login,
// audit filters and user names resolved within the organization only.
import anyTest, { type TestFn } from 'ava';
import { startTestApp, setupInstance, currentTotp, ADMIN, type TestApp } from '../helpers/app.ts';
import { Client } from '../helpers/http-client.ts';
import { waitForChained } from '../helpers/audit.ts';
import { auditRows, createAccount, ownerDb, sessionAs, signIn, stopApp, tokenOf, type LocalAccount } from './auth-fixtures.ts';
import { samplePatient } from './patients-fixtures.ts';

interface Ctx { app: TestApp; admin: Client; adminId: string; orgId: string; otherOrgId: string; otherAdminId: string }
const test = anyTest as TestFn<Ctx>;

test.before(async (t) => {
  t.context = {} as Ctx;
  const app = (t.context.app = await startTestApp());
  const { client, userId, organizationId } = await setupInstance(app);
  const [other] = await ownerDb(app)('organizations').insert({ name: 'Praxis Nord', slug: 'praxis-nord' }).returning('id');
  const [otherAdmin] = await ownerDb(app)('users').insert({ organization_id: other.id, username: 'nord-admin', display_name: 'Nord Admin', roles: ['admin'] }).returning('id');
  Object.assign(t.context, { admin: client, adminId: userId, orgId: organizationId, otherOrgId: other.id, otherAdminId: otherAdmin.id });
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

/** The field a 400 names, without the part of the request it came in (body., query.). */
const field = (res: { body: { details?: { field: string }[] } }, i = 0) => res.body.details?.[i]?.field.replace(/^(body|query|params)\./, '');
const names = (res: { body: { details?: { field: string }[] } }) => (res.body.details ?? []).map((d) => d.field.replace(/^(body|query|params)\./, ''));

/** Waits into a fresh TOTP step when the current one is nearly over (a loaded machine is slow). */
async function freshStep(): Promise<void> {
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep > 24) await new Promise((r) => setTimeout(r, (30 - intoStep) * 1000 + 200));
}

test('a TOTP reset: the old authenticator stops working at once, the link shows a QR URI with organization and user, the person confirms with the password; one use only', async (t) => {
  const { app, admin, adminId } = t.context;
  const acc = await createAccount(admin, ['staff'], 'totp-reset');
  const { client: session } = await signIn(app, acc);
  const reset = await admin.post(`/api/v1/users/${acc.id}/enrollment`, { kind: 'totp' });
  t.is(reset.status, 200, reset.text);
  t.is(reset.body.user.enrollmentKind, 'totp');
  t.is((await session.get('/api/v1/session')).body.user, null, 'the reset ended the sessions');
  const row = await ownerDb(app)('users').where({ id: acc.id }).first();
  t.is(row.totp_secret, null, 'the old TOTP secret is gone when the link is issued');
  t.deepEqual(row.recovery_codes, [], 'and the old recovery codes');
  t.truthy(row.password_hash, 'the password stays');
  t.is((await signIn(app, acc, { offset: 1 })).res.status, 401, 'the old TOTP is rejected right after the reset');
  const recovery = await app.client().post('/api/v1/auth/local/login', { username: acc.username, password: acc.password, recoveryCode: acc.recoveryCodes[0] });
  t.is(recovery.status, 401, 'so are the old recovery codes');
  const [entry] = await auditRows(app, { action: 'user.reset', object_id: acc.id });
  t.deepEqual([entry.actor_user_id, entry.details.kind, entry.details.sessionsEnded], [adminId, 'totp', 1]);

  const token = tokenOf(reset.body.enrollment.url);
  const holder = app.client();
  const begin = await holder.post('/api/v1/enrollment/begin', { token });
  t.is(begin.status, 200, begin.text);
  t.is(begin.body.kind, 'totp');
  const secret = begin.body.totpSecret as string;
  const uri = new URL(begin.body.otpauthUrl);
  t.is(uri.host, 'totp');
  t.is(decodeURIComponent(uri.pathname), `/Praxiskern (${ADMIN.organizationName}):${acc.username}`);
  t.is(uri.searchParams.get('issuer'), `Praxiskern (${ADMIN.organizationName})`);
  t.is(uri.searchParams.get('secret'), secret);

  await freshStep();
  const noPassword = await holder.post('/api/v1/enrollment/complete', { token, totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(noPassword.status, 400);
  t.is(field(noPassword), 'currentPassword');
  const wrong = await holder.post('/api/v1/enrollment/complete', { token, currentPassword: 'not the password', totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(wrong.status, 400);
  t.is(field(wrong), 'currentPassword');
  const done = await holder.post('/api/v1/enrollment/complete', { token, currentPassword: acc.password, totpSecret: secret, totpCode: currentTotp(secret, -1) });
  t.is(done.status, 200, done.text);
  t.is(done.body.recoveryCodes.length, 10, 'new recovery codes, shown once');
  t.is((await holder.get('/api/v1/session')).body.user.id, acc.id, 'the person is signed in');
  const again = await app.client().post('/api/v1/enrollment/complete', { token, currentPassword: acc.password, totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(again.status, 404, 'the link works once');
  const renewed: LocalAccount = { ...acc, totpSecret: secret, recoveryCodes: done.body.recoveryCodes };
  t.is((await signIn(app, renewed)).res.status, 200, 'the new authenticator signs in');
  t.is((await signIn(app, acc, { offset: 1 })).res.status, 401, 'the old one still does not');
  const enrolled = await auditRows(app, { action: 'user.enrolled', object_id: acc.id });
  t.is(enrolled.at(-1).details.kind, 'totp');
});

test('a password reset: the old password stops working at once; the new one is confirmed with the authenticator the person keeps', async (t) => {
  const { app, admin } = t.context;
  const acc = await createAccount(admin, ['staff'], 'pw-reset');
  const reset = await admin.post(`/api/v1/users/${acc.id}/enrollment`, { kind: 'password' });
  t.is(reset.status, 200, reset.text);
  t.is((await signIn(app, acc)).res.status, 401, 'the old password is rejected right after the reset');
  const token = tokenOf(reset.body.enrollment.url);
  const begin = await app.client().post('/api/v1/enrollment/begin', { token });
  t.deepEqual([begin.body.kind, begin.body.totpSecret, begin.body.otpauthUrl], ['password', null, null], 'no new authenticator for a password reset');
  await freshStep();
  const badCode = await app.client().post('/api/v1/enrollment/complete', { token, password: 'a brand new password', totpCode: '000000' === currentTotp(acc.totpSecret) ? '111111' : '000000' });
  t.is(badCode.status, 400);
  t.is(field(badCode), 'totpCode');
  const weak = await app.client().post('/api/v1/enrollment/complete', { token, password: 'short', totpCode: currentTotp(acc.totpSecret, 1) });
  t.is(weak.status, 400);
  t.is(field(weak), 'password');
  const done = await app.client().post('/api/v1/enrollment/complete', { token, password: 'a brand new password', totpCode: currentTotp(acc.totpSecret, 1) });
  t.is(done.status, 200, done.text);
  t.deepEqual(done.body.recoveryCodes, [], 'the recovery codes stay as they were');
  const renewed = { ...acc, password: 'a brand new password' };
  await new Promise((r) => setTimeout(r, 0));
  const login = await app.client().post('/api/v1/auth/local/login', { username: acc.username, password: renewed.password, recoveryCode: acc.recoveryCodes[0] });
  t.is(login.status, 200, 'new password + a kept recovery code');
  t.is((await app.client().post('/api/v1/auth/local/login', { username: acc.username, password: acc.password, recoveryCode: acc.recoveryCodes[1] })).status, 401, 'the old password stays rejected');
});

test('a partial reset of an account that never enrolled asks for a full one (400 naming kind); identity-provider accounts have no reset', async (t) => {
  const { app, admin, orgId } = t.context;
  const created = await admin.post('/api/v1/users', { username: 'never-enrolled', displayName: 'Never Enrolled', roles: ['staff'] });
  t.is(created.status, 201);
  for (const kind of ['password', 'totp']) {
    const res = await admin.post(`/api/v1/users/${created.body.user.id}/enrollment`, { kind });
    t.is(res.status, 400, kind);
    t.is(field(res), 'kind');
    t.is(res.body.details[0].code, 'nothing_to_keep');
  }
  const [oidc] = await ownerDb(app)('users').insert({ organization_id: orgId, display_name: 'Idp Person', email: 'idp@praxis.example', oidc_issuer: 'https://idp.example', oidc_subject: 'sub-1', roles: ['staff'] }).returning('id');
  const reset = await admin.post(`/api/v1/users/${oidc.id}/enrollment`, { kind: 'full' });
  t.is(reset.status, 409);
  t.is(reset.body.error, 'oidc_account');
  const rename = await admin.patch(`/api/v1/users/${oidc.id}`, { displayName: 'Other Name' });
  t.is(rename.status, 400);
  t.deepEqual([field(rename), rename.body.details[0].code], ['displayName', 'managed_by_idp']);
  const email = await admin.patch(`/api/v1/users/${oidc.id}`, { email: 'x@praxis.example' });
  t.is(field(email), 'email');
  t.is((await admin.patch(`/api/v1/users/${oidc.id}`, { roles: ['doctor'] })).status, 200, 'roles of an IdP account can still be changed here');
});

test('an admin of organization B cannot reset, edit or see a user of organization A; names of A stay unresolved in B\'s audit view', async (t) => {
  const { app, admin, otherOrgId, otherAdminId } = t.context;
  const acc = await createAccount(admin, ['staff'], 'org-a');
  const other = await sessionAs(app, otherOrgId, otherAdminId, ['admin']);
  t.is((await other.post(`/api/v1/users/${acc.id}/enrollment`, { kind: 'totp' })).status, 404);
  t.is((await other.patch(`/api/v1/users/${acc.id}`, { displayName: 'Hijacked' })).status, 404);
  t.false((await other.get('/api/v1/users')).body.users.some((u: { id: string }) => u.id === acc.id));
  const row = await ownerDb(app)('users').where({ id: acc.id }).first();
  t.is(row.display_name, 'Test org-a');
  t.truthy(row.totp_secret, 'nothing was reset');
  // B's view resolves its own admin, never A's users (the entries of A are not even visible to B).
  const own = await other.get('/api/v1/audit?limit=50');
  t.is(own.status, 200);
  t.true(own.body.entries.length > 0);
  t.true(own.body.entries.every((e: { actor_user_id: string | null; actor_name: string | null }) => e.actor_user_id === otherAdminId || e.actor_user_id === null));
  t.false(JSON.stringify(own.body).includes('Test org-a'));
  t.false(JSON.stringify(own.body).includes(acc.id));
});

test('own password change: wrong current password is a 400 naming currentPassword; a weak new one names newPassword; success ends the other sessions and is audited', async (t) => {
  const { app, admin } = t.context;
  const acc = await createAccount(admin, ['staff'], 'pw-self');
  const { client: first } = await signIn(app, acc);
  const { client: second } = await signIn(app, acc, { offset: 1 });
  const wrong = await first.post('/api/v1/auth/local/password', { currentPassword: 'wrong password', newPassword: 'a long new password 1' });
  t.is(wrong.status, 400);
  t.is(field(wrong), 'currentPassword');
  const weak = await first.post('/api/v1/auth/local/password', { currentPassword: acc.password, newPassword: 'short' });
  t.is(weak.status, 400);
  t.is(field(weak), 'newPassword');
  const nul = await first.post('/api/v1/auth/local/password', { currentPassword: acc.password, newPassword: 'a long new\u0000password' });
  t.is(nul.status, 400, 'a NUL byte is refused');
  t.is(field(nul), 'newPassword');
  const ok = await first.post('/api/v1/auth/local/password', { currentPassword: acc.password, newPassword: 'a long new password 1' });
  t.is(ok.status, 200, ok.text);
  t.is(ok.body.otherSessionsEnded, 1);
  t.is((await second.get('/api/v1/session')).body.user, null, 'the other session ended');
  t.is((await first.get('/api/v1/session')).body.user.id, acc.id, 'this one stays');
  t.is((await first.get('/api/v1/session')).body.user.signIn, 'local');
  const entries = await auditRows(app, { action: 'auth.password_changed', object_id: acc.id });
  t.deepEqual(entries.map((e: { outcome: string }) => e.outcome), ['failure', 'success']);
});

test('an admin edits name and e-mail (validated, audited); NUL bytes, bad addresses and a JSON null body are 400s naming the field', async (t) => {
  const { app, admin, adminId } = t.context;
  const acc = await createAccount(admin, ['staff'], 'edit-me');
  const ok = await admin.patch(`/api/v1/users/${acc.id}`, { displayName: '  Dr. Erika Muster  ', email: 'erika@praxis.example' });
  t.is(ok.status, 200, ok.text);
  t.deepEqual([ok.body.user.displayName, ok.body.user.email], ['Dr. Erika Muster', 'erika@praxis.example']);
  const [entry] = (await auditRows(app, { action: 'user.updated', object_id: acc.id })).slice(-1);
  t.is(entry.actor_user_id, adminId);
  t.deepEqual([entry.details.displayNameChanged, entry.details.emailChanged], [true, true]);
  t.false(JSON.stringify(entry.details).includes('erika'), 'the audit entry names what changed, not the values');
  const cases: [unknown, string][] = [
    [{ displayName: 'Erika\u0000Muster' }, 'displayName'],
    [{ displayName: '   ' }, 'displayName'],
    [{ displayName: 'x'.repeat(201) }, 'displayName'],
    [{ email: 'not-an-address' }, 'email'],
    [{ email: 'erika\u0000@praxis.example' }, 'email'],
    [{ email: 7 }, 'email'],
    [{ nickname: 'x' }, 'nickname'],
  ];
  for (const [body, name] of cases) {
    const res = await admin.patch(`/api/v1/users/${acc.id}`, body);
    t.is(res.status, 400, JSON.stringify(body));
    t.true(names(res).some((f) => f === name || f.startsWith(name)), `${JSON.stringify(body)} → ${res.text}`);
  }
  const nullBody = await admin.request('PATCH', `/api/v1/users/${acc.id}`, null);
  t.is(nullBody.status, 400, nullBody.text);
  const cleared = await admin.patch(`/api/v1/users/${acc.id}`, { email: null });
  t.is(cleared.body.user.email, null, 'null removes the address');
  const row = await ownerDb(app)('users').where({ id: acc.id }).first();
  t.deepEqual([row.display_name, row.email], ['Dr. Erika Muster', null], 'refused input changed nothing');
});

test('reset and enrollment routes refuse bad input with 400s naming the field (OpenAPI walk)', async (t) => {
  const { app, admin } = t.context;
  const acc = await createAccount(admin, ['staff'], 'walk');
  const doc = (await app.client().get('/api/v1/openapi.json')).body;
  t.truthy(doc.paths['/api/v1/users/{id}/enrollment'].post.requestBody, 'the reset documents its body');
  t.deepEqual(doc.components.schemas.EnrollmentStart.properties.kind.enum, ['full', 'password', 'totp']);
  const resets: [unknown, string][] = [[{ kind: 'everything' }, 'kind'], [{ kind: null }, 'kind'], [{ kind: 'totp\u0000' }, 'kind'], [{ kind: 'totp', extra: 1 }, 'extra']];
  for (const [body, name] of resets) {
    const res = await admin.post(`/api/v1/users/${acc.id}/enrollment`, body);
    t.is(res.status, 400, JSON.stringify(body));
    t.true(names(res).some((f) => f === name || f.startsWith(name)), res.text);
  }
  t.is((await admin.request('POST', `/api/v1/users/${acc.id}/enrollment`, null)).status, 400, 'JSON null body');
  t.is((await admin.post('/api/v1/users/not-a-uuid/enrollment', { kind: 'full' })).status, 400);
  const token = 'A'.repeat(43);
  const completes: [unknown, string][] = [
    [{ token, currentPassword: 'x\u0000y', totpCode: '123456' }, 'currentPassword'],
    [{ token, currentPassword: 'x'.repeat(1025), totpCode: '123456' }, 'currentPassword'],
    [{ token, password: 'long enough password', totpCode: '12345' }, 'totpCode'],
    [{ token, password: 'long enough password', totpSecret: 'lower', totpCode: '123456' }, 'totpSecret'],
  ];
  for (const [body, name] of completes) {
    const res = await app.client().post('/api/v1/enrollment/complete', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.true(names(res).includes(name), res.text);
  }
  const row = await ownerDb(app)('users').where({ id: acc.id }).first();
  t.truthy(row.totp_secret, 'no refused reset touched the account');
});

test('last login is recorded on local sign-in and listed per user', async (t) => {
  const { app, admin } = t.context;
  const acc = await createAccount(admin, ['staff'], 'last-login');
  await ownerDb(app)('users').where({ id: acc.id }).update({ last_login_at: null });
  const before = Date.now();
  t.is((await signIn(app, acc)).res.status, 200);
  const listed = (await admin.get('/api/v1/users')).body.users.find((u: { id: string }) => u.id === acc.id);
  t.truthy(listed.lastLoginAt);
  t.true(new Date(listed.lastLoginAt).getTime() >= before - 1000);
});

test('audit API: filters by action, user, patient and date range on the server, paginated; names resolved within the organization', async (t) => {
  const { app, admin, adminId } = t.context;
  const acc = await createAccount(admin, ['doctor'], 'auditee');
  const { client: doctor } = await signIn(app, acc);
  const r1 = await doctor.post('/api/v1/patients', samplePatient());
  const r2 = await doctor.post('/api/v1/patients', samplePatient());
  const p1 = { status: r1.status, text: r1.text, body: r1.body.patient };
  const p2 = { status: r2.status, text: r2.text, body: r2.body.patient };
  t.is(p1.status, 201, p1.text);
  t.is(p2.status, 201, p2.text);
  for (let i = 0; i < 3; i++) t.is((await doctor.get(`/api/v1/patients/${p1.body.id}`)).status, 200);
  t.is((await doctor.get(`/api/v1/patients/${p2.body.id}`)).status, 200);
  await waitForChained(ownerDb(app));

  const byPatient = await admin.get(`/api/v1/audit?patientId=${p1.body.id}&limit=500`);
  t.is(byPatient.status, 200, byPatient.text);
  t.true(byPatient.body.entries.length >= 4);
  t.true(byPatient.body.entries.every((e: { object_id: string | null; details: { ids?: string[] } }) => e.object_id === p1.body.id || e.details?.ids?.includes(p1.body.id)));
  t.is(byPatient.body.entries.filter((e: { action: string }) => e.action === 'patient.read').length, 3);

  const reads = await admin.get(`/api/v1/audit?action=patient.read&actorUserId=${acc.id}`);
  t.deepEqual(new Set(reads.body.entries.map((e: { action: string }) => e.action)), new Set(['patient.read']));
  t.is(reads.body.entries.length, 4);
  t.true(reads.body.entries.every((e: { actor_name: string }) => e.actor_name === `Test auditee (${acc.username})`), 'the actor is named, not only a UUID');

  // Pages: two entries, then the next two before the last seq.
  const page1 = await admin.get(`/api/v1/audit?action=patient.read&actorUserId=${acc.id}&limit=2`);
  const page2 = await admin.get(`/api/v1/audit?action=patient.read&actorUserId=${acc.id}&limit=2&beforeSeq=${page1.body.entries[1].seq}`);
  t.deepEqual([...page1.body.entries, ...page2.body.entries].map((e: { seq: string }) => e.seq), reads.body.entries.map((e: { seq: string }) => e.seq));

  const future = new Date(Date.now() + 86_400_000).toISOString();
  t.is((await admin.get(`/api/v1/audit?from=${encodeURIComponent(future)}`)).body.entries.length, 0, 'nothing from tomorrow on');
  const past = new Date(Date.now() - 86_400_000).toISOString();
  t.is((await admin.get(`/api/v1/audit?action=patient.read&actorUserId=${acc.id}&to=${encodeURIComponent(past)}`)).body.entries.length, 0, 'nothing before yesterday');
  t.is((await admin.get(`/api/v1/audit?action=patient.read&actorUserId=${acc.id}&from=${encodeURIComponent(past)}&to=${encodeURIComponent(future)}`)).body.entries.length, 4);

  // Entries about a user name that user too.
  const reset = await admin.post(`/api/v1/users/${acc.id}/enrollment`, { kind: 'full' });
  t.is(reset.status, 200);
  const about = await admin.get(`/api/v1/audit?action=user.reset&objectId=${acc.id}`);
  t.is(about.body.entries[0].object_name, `Test auditee (${acc.username})`);
  t.is(about.body.entries[0].actor_name, `${ADMIN.adminDisplayName} (${ADMIN.adminUsername})`);
  t.is(about.body.entries[0].actor_user_id, adminId);

  // The read of the log is audited with its filters.
  const [readEntry] = (await auditRows(app, { action: 'audit.read', actor_user_id: adminId })).filter((e: { details: { filters?: { patientId?: string } } }) => e.details.filters?.patientId === p1.body.id);
  t.truthy(readEntry, 'who looked at a patient\'s audit trail is itself recorded');

  for (const [query, name] of [['action=patient.read%00', 'action'], ['action=DROP TABLE', 'action'], ['from=yesterday', 'from'], ['patientId=123', 'patientId'], ['to=2026-13-01T00:00:00Z', 'to']]) {
    const res = await admin.get(`/api/v1/audit?${query}`);
    t.is(res.status, 400, query);
    t.true(names(res).includes(name), res.text);
  }
});
