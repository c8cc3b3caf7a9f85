// `praxiskern operator list|grant|revoke`: the installation role operator, managed by root on the
// server (the same service the API uses; audited in the installation chain with no user id, via "cli").
import { grantOperator, listInstallationOperators, revokeOperator, type InstallationActor } from '@praxiskern/api/modules/installation/operator.service.ts';
import { output, fail, type Command } from './command.ts';
import { withServices } from './user-commands.ts';

const root: InstallationActor = { userId: null };

const describe = (o: { userId: string; username: string | null; displayName: string; organizationName: string; active: boolean }) =>
  `${o.userId}  ${(o.username ?? '(oidc)').padEnd(20)} ${o.active ? 'active  ' : 'inactive'} ${o.organizationName}  ${o.displayName}`;

const list: Command = {
  usage: 'praxiskern operator list [--json]   the installation operators and their organization',
  options: {},
  run: (v) => withServices(async (services) => {
    const operators = await listInstallationOperators(services, root);
    output(v, { operators }, operators.map(describe).join('\n') || 'No operators.');
    return 0;
  }),
};

const grant: Command = {
  usage: 'praxiskern operator grant NAME[@ORG-SLUG]|ID [--json]   make a user of any organization an installation operator (a plain name: the first organization); ends their sessions',
  options: {},
  run: (v, positionals) => withServices(async (services) => {
    if (!positionals[0]) fail('name the user: praxiskern operator grant NAME[@ORG-SLUG]|ID');
    const operator = await grantOperator(services, root, positionals[0]);
    output(v, { operator }, `${operator.username ?? operator.userId} is an installation operator; sessions ended.`);
    return 0;
  }),
};

const revoke: Command = {
  usage: 'praxiskern operator revoke NAME[@ORG-SLUG]|ID [--json]   take the installation operator role (one active operator must remain)',
  options: {},
  run: (v, positionals) => withServices(async (services) => {
    if (!positionals[0]) fail('name the user: praxiskern operator revoke NAME[@ORG-SLUG]|ID');
    await revokeOperator(services, root, positionals[0]);
    output(v, { revoked: positionals[0] }, `${positionals[0]} is no longer an installation operator; sessions ended.`);
    return 0;
  }),
};

export const operatorCommands: Record<string, Command> = { 'operator list': list, 'operator grant': grant, 'operator revoke': revoke };
