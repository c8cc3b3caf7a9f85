// Backup targets configured in the admin UI next to those of PRAXISKERN_BACKUP_TARGETS (which keep
// working and are shown read-only, "from configuration"). An operator (installation permission
// backup.targets) adds, edits, tests and removes them; every change is audited in the installation
// chain and recorded in the register of external services. The SSH private key (and its
// passphrase) is sealed with AES-256-GCM under a key derived from the installation's application
// key and bound to the row id: backups run at night while the server may be sealed, so the
// passphrase-wrapped master key cannot be what protects it. A secret is never answered again.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import ssh2 from 'ssh2';
import { authorize } from '../../core/authorize.ts';
import { AppError, conflict, notFound, validation } from '../../core/errors.ts';
import { rootLogger } from '../../core/logger.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { open, seal } from '../keystore/keystore.crypto.ts';
import { audit } from '../audit/audit.service.ts';
import { syncInstallationRegister } from '../services-register/register.service.ts';
import type { BackupRuntime } from './backup-runtime.service.ts';
import { backupRuntime, reasonOf } from './backup-runtime.service.ts';
import { createTarget, DEFAULT_SFTP_PORT, type TargetConfig } from './targets/index.ts';
import * as repo from './targets-config.repository.ts';

const secretKey = (appKey: Buffer) => createHash('sha256').update(appKey).update('backup-target-secrets').digest();
const secretAad = (id: string) => `praxiskern:backup-target-secret:v1:${id}`;

interface TargetSecret { privateKey: string; passphrase?: string }

export const sealTargetSecret = (appKey: Buffer, id: string, s: TargetSecret) => seal(secretKey(appKey), Buffer.from(JSON.stringify(s)), secretAad(id));
const openTargetSecret = (appKey: Buffer, id: string, box: Buffer): TargetSecret => JSON.parse(open(secretKey(appKey), box, secretAad(id)).toString('utf8'));

export const TARGET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FINGERPRINT = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/;

/** Where a target's data lives, for the register: an explicit setting, else a guess from the host. */
export function providerOf(t: { type: string; host?: string | null; provider?: string | null }): string {
  if (t.provider) return t.provider;
  if (t.type === 'local') return '';
  return /(^|\.)your-(storagebox|backup)\.de$/i.test(t.host ?? '') ? 'Hetzner Online GmbH (Storage Box)' : (t.host ?? '');
}

const installationScope = (userId?: string) => ({ organizationId: null, userId: userId ?? null, installation: true });

const runtimeEnv = new WeakMap<BackupRuntime, TargetConfig[]>();

/** Targets of PRAXISKERN_BACKUP_TARGETS (the runtime's settings as first loaded). */
export function envTargets(rt: BackupRuntime): TargetConfig[] {
  let env = runtimeEnv.get(rt);
  if (!env) {
    env = [...rt.settings.targets];
    runtimeEnv.set(rt, env);
  }
  return env;
}

export function rowToConfig(appKey: Buffer, r: repo.TargetRow): TargetConfig {
  if (r.type === 'local') return { type: 'local', name: r.name, path: r.path! };
  const secret = openTargetSecret(appKey, r.id, r.secret!);
  return {
    type: 'sftp', name: r.name, host: r.host!, port: r.port ?? DEFAULT_SFTP_PORT, username: r.username!, privateKey: secret.privateKey,
    passphrase: secret.passphrase, hostKeyFingerprint: r.host_key_fingerprint!, root: r.root ?? undefined, readyTimeoutMs: 20_000,
  };
}

export const readTargetRows = (services: Services) =>
  withScope(services.db, { ...installationScope(), readOnly: true }, (trx) => repo.listTargetRows(trx));

/**
 * Makes the runtime's target list the environment's targets plus those configured in the UI, as
 * stored now. Called before every backup, drill and status answer (API and worker processes).
 */
export async function refreshTargets(rt: BackupRuntime): Promise<void> {
  const env = envTargets(rt);
  const rows = await readTargetRows(rt.services);
  const names = new Set(env.map((t) => t.name));
  const fromUi: TargetConfig[] = [];
  for (const r of rows) {
    if (names.has(r.name)) continue; // the environment's target of the same name wins
    try {
      fromUi.push(rowToConfig(rt.services.appKey, r));
    } catch (err) {
      rootLogger.error({ target: r.name, err: reasonOf(err).message }, 'backup target secret cannot be opened (was the application key replaced?)');
    }
  }
  rt.settings.targets = [...env, ...fromUi];
}

// ---- input ----

export interface TargetInput {
  name: string;
  type: 'sftp' | 'local';
  host?: string;
  port?: number;
  username?: string;
  root?: string;
  hostKeyFingerprint?: string;
  privateKey?: string;
  passphrase?: string;
  path?: string;
  provider?: string;
  location?: string;
}

function checkAbsolutePath(field: string, p: string): string {
  if (!path.isAbsolute(p)) throw validation(field, 'must be an absolute path (e.g. /srv/backup)', 'invalid_path');
  if (p.split('/').some((s) => s === '..' || s === '.')) throw validation(field, 'must not contain "." or ".." segments', 'invalid_path');
  return path.resolve(p);
}

function checkRemoteDir(field: string, p: string): string {
  if (p.split('/').some((s) => s === '..')) throw validation(field, 'must not contain ".." segments', 'invalid_path');
  if (/[\\]/.test(p)) throw validation(field, 'must not contain a backslash', 'invalid_path');
  return p.replace(/\/+$/, '');
}

/** Checks an input beyond its schema; returns the row fields (without the secret). */
function rowFields(input: TargetInput, existing?: repo.TargetRow) {
  if (input.type === 'local') {
    if (!input.path) throw validation('body.path', 'is required for a local directory target', 'required');
    return { type: 'local' as const, path: checkAbsolutePath('body.path', input.path), host: null, port: null, username: null, root: null, host_key_fingerprint: null, provider: input.provider || null, location: input.location ?? 'DE' };
  }
  if (!input.host) throw validation('body.host', 'is required for an SFTP target', 'required');
  if (!(HOSTNAME.test(input.host) || isIP(input.host))) throw validation('body.host', 'must be a host name or an IP address', 'invalid_host');
  if (!input.username) throw validation('body.username', 'is required for an SFTP target', 'required');
  const fp = FINGERPRINT.exec(input.hostKeyFingerprint ?? '');
  if (!fp) throw validation('body.hostKeyFingerprint', 'must be the server\'s SHA256 host key fingerprint as `ssh-keygen -lf` prints it (SHA256:…, 43 characters)', 'invalid_fingerprint');
  if (!input.privateKey && !existing?.secret) throw validation('body.privateKey', 'is required for a new SFTP target', 'required');
  if (input.privateKey) {
    const parsed = ssh2.utils.parseKey(input.privateKey, input.passphrase);
    if (parsed instanceof Error || (Array.isArray(parsed) ? !parsed[0]?.isPrivateKey() : !parsed.isPrivateKey())) {
      throw validation('body.privateKey', 'is not an OpenSSH or PEM private key (or the passphrase does not open it)', 'invalid_key');
    }
  }
  return {
    type: 'sftp' as const, host: input.host, port: input.port ?? DEFAULT_SFTP_PORT, username: input.username,
    root: input.root ? checkRemoteDir('body.root', input.root) : null, host_key_fingerprint: `SHA256:${fp[1]}`, path: null,
    provider: input.provider || null, location: input.location ?? 'DE',
  };
}

// ---- views ----

export function targetView(r: repo.TargetRow) {
  return {
    name: r.name, type: r.type, source: 'ui' as const, host: r.host, port: r.port, username: r.username, root: r.root,
    hostKeyFingerprint: r.host_key_fingerprint, path: r.path, provider: r.provider, location: r.location,
    secretStored: Boolean(r.secret), createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

function envView(t: TargetConfig) {
  const sftp = t.type === 'sftp' ? t : undefined;
  return {
    name: t.name, type: t.type, source: 'configuration' as const, host: sftp?.host ?? null, port: sftp?.port ?? null, username: sftp?.username ?? null,
    root: sftp?.root ?? null, hostKeyFingerprint: sftp?.hostKeyFingerprint ?? null, path: t.type === 'local' ? t.path : null,
    provider: null, location: process.env.PRAXISKERN_BACKUP_LOCATION?.trim().toUpperCase() || 'DE', secretStored: t.type === 'sftp', createdAt: null, updatedAt: null,
  };
}

export async function listTargets(services: Services) {
  authorize('backup.read');
  const rt = backupRuntime(services);
  const rows = await readTargetRows(services);
  const env = envTargets(rt);
  return { targets: [...env.map(envView), ...rows.filter((r) => !env.some((t) => t.name === r.name)).map(targetView)] };
}

// ---- changes ----

async function changed(services: Services, trx: Tx) {
  await syncInstallationRegister(services, trx);
}

export async function addTarget(services: Services, input: TargetInput) {
  const actor = authorize('backup.targets');
  const rt = backupRuntime(services);
  if (envTargets(rt).some((t) => t.name === input.name)) throw new AppError(409, 'conflict', `a target named "${input.name}" is defined in the configuration`, { field: 'body.name' });
  const fields = rowFields(input);
  const id = randomUUID();
  const secret = fields.type === 'sftp' ? sealTargetSecret(services.appKey, id, { privateKey: input.privateKey!, passphrase: input.passphrase || undefined }) : null;
  const row = await withScope(services.db, installationScope(actor.userId), async (trx) => {
    if (await repo.targetRow(trx, input.name)) throw new AppError(409, 'conflict', `a target named "${input.name}" exists`, { field: 'body.name' });
    const r = await repo.insertTargetRow(trx, { id, name: input.name, ...fields, secret, created_by: actor.userId });
    await audit(trx, { action: 'backup.target_added', objectType: 'backup_target', objectId: r.name, organizationId: null, details: describe(r) });
    await changed(services, trx);
    return r;
  });
  await refreshTargets(rt);
  return { target: targetView(row) };
}

const describe = (r: repo.TargetRow) => ({ type: r.type, host: r.host, port: r.port, root: r.root, path: r.path, location: r.location, hostKeyFingerprint: r.host_key_fingerprint });

export async function editTarget(services: Services, name: string, input: Omit<TargetInput, 'name' | 'type'> & { type?: TargetInput['type'] }) {
  const actor = authorize('backup.targets');
  const rt = backupRuntime(services);
  if (envTargets(rt).some((t) => t.name === name)) throw new AppError(409, 'target_from_configuration', `target "${name}" is defined in the configuration (PRAXISKERN_BACKUP_TARGETS) and cannot be changed here`);
  const row = await withScope(services.db, installationScope(actor.userId), async (trx) => {
    const before = await repo.targetRow(trx, name);
    if (!before) throw notFound('Backup target');
    const type = input.type ?? before.type;
    const fields = rowFields({ ...input, name, type }, type === before.type ? before : undefined);
    const secret = type === 'sftp' && input.privateKey
      ? sealTargetSecret(services.appKey, before.id, { privateKey: input.privateKey, passphrase: input.passphrase || undefined })
      : type === 'sftp' ? before.secret : null;
    const r = await repo.updateTargetRow(trx, before.id, { ...fields, secret });
    await audit(trx, {
      action: 'backup.target_changed', objectType: 'backup_target', objectId: name, organizationId: null,
      details: { before: describe(before), after: describe(r), keyReplaced: Boolean(input.privateKey) },
    });
    await changed(services, trx);
    return r;
  });
  await refreshTargets(rt);
  return { target: targetView(row) };
}

export async function removeTarget(services: Services, name: string) {
  const actor = authorize('backup.targets');
  const rt = backupRuntime(services);
  if (envTargets(rt).some((t) => t.name === name)) throw new AppError(409, 'target_from_configuration', `target "${name}" is defined in the configuration (PRAXISKERN_BACKUP_TARGETS) and cannot be removed here`);
  await withScope(services.db, installationScope(actor.userId), async (trx) => {
    const before = await repo.targetRow(trx, name);
    if (!before) throw notFound('Backup target');
    await repo.deleteTargetRow(trx, before.id);
    await audit(trx, { action: 'backup.target_removed', objectType: 'backup_target', objectId: name, organizationId: null, details: describe(before) });
    await changed(services, trx);
  });
  await refreshTargets(rt);
}

/** "Test connection": writes a probe file, reads it back, deletes it. A failure is an answer, not an error. */
export async function testTarget(services: Services, name: string) {
  const actor = authorize('backup.targets');
  const rt = backupRuntime(services);
  await refreshTargets(rt);
  const config = rt.settings.targets.find((t) => t.name === name);
  if (!config) throw notFound('Backup target');
  const target = createTarget(config);
  const probe = `praxiskern-probe-${randomBytes(8).toString('hex')}`;
  const content = randomBytes(64);
  const started = Date.now();
  const steps: string[] = [];
  let result: { ok: true } | { ok: false; code: string; message: string };
  try {
    await target.put(probe, Readable.from([content]));
    steps.push('write');
    const chunks: Buffer[] = [];
    for await (const c of await target.get(probe)) chunks.push(Buffer.from(c));
    if (!Buffer.concat(chunks).equals(content)) throw new AppError(502, 'target_failed', `backup target "${name}": the probe file read back differs from what was written`);
    steps.push('read');
    await target.delete(probe);
    steps.push('delete');
    result = { ok: true };
  } catch (err) {
    const r = reasonOf(err);
    result = { ok: false, code: r.code, message: r.message };
    await target.delete(probe).catch(() => undefined);
  } finally {
    await target.close().catch(() => undefined);
  }
  await withScope(services.db, installationScope(actor.userId), (trx) =>
    audit(trx, { action: 'backup.target_tested', objectType: 'backup_target', objectId: name, organizationId: null, outcome: result.ok ? 'success' : 'failure', details: { steps, ...(result.ok ? {} : { code: result.code }) } }),
  );
  return { ...result, steps, durationMs: Date.now() - started };
}
