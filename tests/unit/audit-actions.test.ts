// Every audit action the API writes has a name in German and English (the audit page shows the
// name, not the code), and the catalogue lists no action the code no longer writes (except the
// retired ones that existing audit logs still hold, listed in tests/helpers/audit-actions.ts). The printable
// recovery kit speaks the language it was created in.
import test from 'ava';
import { auditActionsInSource, RETIRED } from '../helpers/audit-actions.ts';
import { auditActionsDe } from '../../app/web/src/lib/i18n/audit-actions.de.ts';
import { auditActionsEn } from '../../app/web/src/lib/i18n/audit-actions.en.ts';
import { renderKitPage } from '../../app/api/src/modules/backup/kit-page.ts';

const PREFIX = 'audit.action.';
const keys = (catalogue: Record<string, string>) => new Set(Object.keys(catalogue).map((k) => k.slice(PREFIX.length)));

test('every audit action written anywhere in app/api/src has a German and an English name', (t) => {
  const { actions, unknown } = auditActionsInSource();
  t.deepEqual(unknown, [], 'an action computed at run time must be listed with its values in tests/helpers/audit-actions.ts');
  t.true(actions.size > 80, `found ${actions.size} actions`);
  for (const [lang, catalogue] of [['de', auditActionsDe], ['en', auditActionsEn]] as const) {
    const named = keys(catalogue);
    const missing = [...actions].filter((a) => !named.has(a)).sort();
    t.deepEqual(missing, [], `actions without a ${lang} name (add them to app/web/src/lib/i18n/audit-actions.${lang}.ts)`);
    const stale = [...named].filter((a) => !actions.has(a) && !RETIRED.includes(a)).sort();
    t.deepEqual(stale, [], `${lang} names for actions the code does not write`);
    t.deepEqual(RETIRED.filter((a) => !named.has(a)), [], `retired actions keep their ${lang} name (old audit entries)`);
    for (const [key, text] of Object.entries(catalogue)) t.true(text.trim().length > 0 && text !== key, key);
  }
  t.deepEqual(RETIRED.filter((a) => actions.has(a)), [], 'a retired action is no longer written (else it is not retired)');
  t.not(auditActionsDe['audit.action.patient.read'], auditActionsEn['audit.action.patient.read'], 'the two languages differ');
});

test('the scanner finds literal, conditional, template and auditRead actions (it cannot pass by finding nothing)', (t) => {
  const { actions } = auditActionsInSource();
  for (const a of ['user.reset', 'patient.restrict', 'patient.restriction_lifted', 'health_record.correct', 'consent.withdrawn', 'document.download', 'health_record.read', 'access.denied', 'installation.update.finished']) {
    t.true(actions.has(a), a);
  }
});

test('the printable recovery kit is entirely in the language it was created in', (t) => {
  const base = { installationId: 'inst-1', organization: 'Praxis Süd', createdAt: '2026-12-01T20:00:00Z', recipient: 'age1xyz', signer: 'SIGNER' };
  const text = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<code>[\s\S]*?<\/code>/g, ' ').replace(/<[^>]+>/g, ' ');
  const english = ['recovery kit', 'Installation id', 'Created', 'Recipient', 'Restore after losing the server', 'Whoever holds', 'Order a server', 'Custodian share', 'Share 1', 'Identity file', 'Delete', 'Start the app', 'Without Praxiskern'];
  for (const shares of [undefined, { threshold: 2, count: 3, texts: ['s1', 's2', 's3'] }]) {
    const de = text(renderKitPage({ ...base, identity: 'AGE-SECRET-KEY-1', ...(shares ? { shares } : {}), locale: 'de' }));
    t.regex(de, /Zurückspielen nach Verlust des Servers/);
    t.regex(de, /Wiederherstellungs-Kit/);
    for (const word of english) t.false(de.includes(word), `German kit contains "${word}"`);
    const en = text(renderKitPage({ ...base, identity: 'AGE-SECRET-KEY-1', ...(shares ? { shares } : {}), locale: 'en' }));
    t.regex(en, /Restore after losing the server/);
    t.false(en.includes('Zurückspielen'));
  }
  t.regex(renderKitPage({ ...base, identity: 'x', locale: 'de' }), /<html lang="de">/);
  t.regex(renderKitPage({ ...base, shares: { threshold: 2, count: 3, texts: ['a', 'b', 'c'] }, locale: 'de' }), /Verwahrer-Teil 3 von 3/);
});
