// Every audit action the API can write, read from the source with the TypeScript parser: string
// literals of `action:` properties (and both branches of a conditional), `auditRead(trx, 'x', …)`
// (writes "x.read"), and expressions inside audit()/auditStandalone() calls that are not literal,
// which must be listed in DYNAMIC with every value they can take (a new dynamic action fails the
// test until it is listed here and translated).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('../../app/api/src/', import.meta.url).pathname;

/** Non-literal action expressions, by file and source text, and the values they take. */
export const DYNAMIC: Record<string, string[]> = {
  'modules/audit/audit.service.ts|`${objectType}.read`': [], // auditRead: collected at its call sites
  'modules/records/record.service.ts|`health_record.${supersedesId ? \'correct\' : \'append\'}`': ['health_record.correct', 'health_record.append'],
  'modules/consent/consent.service.ts|`consent.${input.action}`': ['consent.granted', 'consent.withdrawn'],
  'modules/documents/document.service.ts|`document.${mode}`': ['document.view', 'document.download'],
  'modules/updates/update-history.service.ts|name': ['installation.update.started', 'installation.update.finished'],
  'modules/keystore/seal.routes.ts|action': ['seal.unseal', 'seal.passphrase_changed'],
  // The register's own record of a service switching (area = the part of the key before ':'; keys in providers.ts and each module's provider).
  'modules/services-register/register.service.ts|`${areaOf(entry.key)}.external_service.${enabled ? \'enabled\' : \'disabled\'}`': [
    'hosting.external_service.enabled', 'hosting.external_service.disabled', 'backup.external_service.enabled', 'backup.external_service.disabled', 'messaging.external_service.enabled', 'messaging.external_service.disabled', 'appointments.external_service.enabled', 'appointments.external_service.disabled', 'stripe.external_service.enabled', 'stripe.external_service.disabled', 'aviationstack.external_service.enabled', 'aviationstack.external_service.disabled', 'anthropic.external_service.enabled', 'anthropic.external_service.disabled'
  ],
  'modules/travel/travel.service.ts|`patient.travel.${table.slice(7, -1)}.delete`': ['patient.travel.flight.delete', 'patient.travel.hotel.delete', 'patient.travel.transfer.delete'],
};

/**
 * Actions earlier versions wrote and the code no longer writes. Existing audit logs still hold them,
 * so their names stay in the catalogues (the audit page shows and filters them by name).
 */
export const RETIRED: string[] = [
  // The AI, finance and travel modules audited their own switch; since the register of external
  // services records and audits it once (anthropic. / stripe. / aviationstack.external_service.*).
  'ai.external_service.enabled', 'ai.external_service.disabled',
  'finance.external_service.enabled', 'finance.external_service.disabled',
  'travel.external_service.enabled', 'travel.external_service.disabled',
];

const ACTION = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function literals(node: ts.Expression): string[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isParenthesizedExpression(node)) return literals(node.expression);
  if (ts.isConditionalExpression(node)) {
    const a = literals(node.whenTrue), b = literals(node.whenFalse);
    return a && b ? [...a, ...b] : undefined;
  }
  return undefined;
}

const calleeName = (c: ts.CallExpression) => (ts.isIdentifier(c.expression) ? c.expression.text : undefined);

export interface FoundActions {
  actions: Set<string>;
  /** Non-literal expressions not listed in DYNAMIC. */
  unknown: string[];
}

export function auditActionsInSource(): FoundActions {
  const actions = new Set<string>();
  const unknown: string[] = [];
  for (const file of files(ROOT)) {
    const rel = relative(ROOT, file);
    if (rel.startsWith('db/migrations/')) continue;
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node, inAudit: boolean): void => {
      if (ts.isCallExpression(node)) {
        const name = calleeName(node);
        if (name === 'auditRead' && node.arguments[1]) {
          const types = literals(node.arguments[1]);
          if (types) types.forEach((t) => actions.add(`${t}.read`));
          else unknown.push(`${rel}|auditRead(${node.arguments[1].getText(src)})`);
        }
        if (name === 'audit' || name === 'auditStandalone') {
          node.arguments.forEach((a) => visit(a, true));
          return;
        }
      }
      if ((ts.isPropertyAssignment(node) && node.name.getText(src) === 'action') || (ts.isShorthandPropertyAssignment(node) && node.name.text === 'action')) {
        const expr = ts.isPropertyAssignment(node) ? node.initializer : node.name;
        const values = literals(expr);
        if (values) values.filter((v) => ACTION.test(v)).forEach((v) => actions.add(v));
        else if (inAudit) {
          const key = `${rel}|${expr.getText(src)}`;
          if (key in DYNAMIC) DYNAMIC[key].forEach((v) => actions.add(v));
          else unknown.push(key);
        }
      }
      ts.forEachChild(node, (child) => visit(child, inAudit));
    };
    visit(src, false);
  }
  return { actions, unknown };
}
