// The health gate the host updater runs after starting a new version (`praxiskern update-gate
// --expect-migration NAME`, in the worker): (1) the database answers, (2) the last applied migration
// is the expected one and none is pending, (3) a smoke query over the main tables succeeds, (4) the
// seal state of the running worker (its admin socket) and of the app (its /readyz, when reachable);
// and, when the app answers, that it runs this version. A failed check names what failed.
import type { Db } from '../../db/connection.ts';
import { migrationState, type MigrationState } from '../../db/migrate.ts';

export interface GateCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GateResult {
  ok: boolean;
  version: string;
  lastMigration: string | null;
  pending: string[];
  sealed: boolean;
  checks: GateCheck[];
}

/** What a running process says about itself; undefined when it does not answer. */
export interface SealProbe {
  name: string;
  where: string;
  probe(): Promise<{ sealed: boolean; version?: string } | undefined>;
}

export interface GateOptions {
  /** The owner connection in the worker (sees every row); the application role elsewhere. */
  db: Db;
  expectMigration: string;
  version: string;
  /** The worker first; its answer is required. */
  worker: SealProbe;
  /** Optional: the app is checked when it answers. */
  app?: SealProbe;
}

const reason = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0] : String(err));

function migrationCheck(state: MigrationState, expect: string): GateCheck {
  const last = state.applied.at(-1) ?? null;
  const problems: string[] = [];
  if (!state.known.includes(expect)) problems.push(`"${expect}" is not a migration of this version (its last is ${state.known.at(-1)})`);
  if (last !== expect) problems.push(`the last applied migration is ${last ?? 'none'}, expected ${expect}`);
  if (state.pending.length) problems.push(`pending: ${state.pending.join(', ')}`);
  const unknown = state.applied.filter((n) => !state.known.includes(n));
  if (unknown.length) problems.push(`applied but unknown to this version: ${unknown.join(', ')}`);
  return problems.length
    ? { name: 'migrations', ok: false, detail: problems.join('; ') }
    : { name: 'migrations', ok: true, detail: `${state.applied.length} applied, the last is ${last}, none pending` };
}

async function smokeCheck(db: Db): Promise<GateCheck> {
  const { rows } = await db.raw(`
    select (select count(*) from organizations)::int as organizations, (select count(*) from users)::int as users,
           (select count(*) from patients)::int as patients,
           (select count(*) from audit_chain_heads('{}'::uuid[], '{}'::bigint[]))::int as chains`);
  const r = rows[0];
  return { name: 'smoke', ok: true, detail: `${r.organizations} organizations, ${r.users} users, ${r.patients} patients, ${r.chains} audit chains` };
}

async function sealCheck(opts: GateOptions): Promise<{ checks: GateCheck[]; sealed: boolean }> {
  const answer = async (p: SealProbe | undefined) => (p ? p.probe().catch(() => undefined) : undefined);
  const [worker, app] = await Promise.all([answer(opts.worker), answer(opts.app)]);
  const describe = (p: SealProbe, a: { sealed: boolean } | undefined) => `${p.name} (${p.where}) ${a ? (a.sealed ? 'sealed' : 'unsealed') : 'not reachable'}`;
  const parts = [describe(opts.worker, worker), ...(opts.app ? [describe(opts.app, app)] : [])];
  const sealed = Boolean(worker?.sealed || app?.sealed);
  const checks: GateCheck[] = [{ name: 'seal', ok: worker !== undefined, detail: `${parts.join('; ')}${worker ? '' : ': the worker must be running for the gate'}` }];
  if (opts.app) {
    const v = app?.version;
    checks.push(v === undefined || v === opts.version
      ? { name: 'app-version', ok: true, detail: v ? `the app runs ${v}` : 'the app does not answer; its version is not compared' }
      : { name: 'app-version', ok: false, detail: `the app runs ${v}, expected ${opts.version}` });
  }
  return { checks, sealed };
}

export async function runUpdateGate(opts: GateOptions): Promise<GateResult> {
  const checks: GateCheck[] = [];
  let state: MigrationState | undefined;
  try {
    await opts.db.raw('select 1');
    checks.push({ name: 'database', ok: true, detail: 'the database answers' });
    state = await migrationState(opts.db);
    checks.push(migrationCheck(state, opts.expectMigration));
    checks.push(await smokeCheck(opts.db).catch((err) => ({ name: 'smoke', ok: false, detail: reason(err) })));
  } catch (err) {
    const failed = reason(err);
    if (!checks.length) checks.push({ name: 'database', ok: false, detail: failed });
    else checks.push({ name: 'migrations', ok: false, detail: failed });
    for (const name of ['migrations', 'smoke']) if (!checks.some((c) => c.name === name)) checks.push({ name, ok: false, detail: 'not checked: the database does not answer' });
  }
  const seal = await sealCheck(opts);
  checks.push(...seal.checks);
  return {
    ok: checks.every((c) => c.ok),
    version: opts.version,
    lastMigration: state?.applied.at(-1) ?? null,
    pending: state?.pending ?? [],
    sealed: seal.sealed,
    checks,
  };
}

/** The app's /readyz as a seal probe (http://app:8080/readyz in the compose network). */
export function readyzProbe(url: string, timeoutMs = 3000): SealProbe {
  return {
    name: 'app',
    where: url,
    async probe() {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.json()) as { sealed?: unknown; version?: unknown };
      if (typeof body.sealed !== 'boolean') return undefined;
      return { sealed: body.sealed, version: typeof body.version === 'string' ? body.version : undefined };
    },
  };
}
