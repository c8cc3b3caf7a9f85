// The promise of docs/ai.md, checked over a generated corpus: 200 synthetic patients whose notes,
// treatment descriptions and WhatsApp messages are full of their own identifiers in adversarial
// spellings (umlaut/ß transliterations both ways, upper/lower case, initials, possessives, names
// hyphenated across lines, phone numbers and e-mail addresses in many formats, birth dates written
// out in German, IBANs, URLs, staff names). Every request the real SDK sent to the fake Messages
// API is searched, with a normalisation written independently of the pseudonymiser, for every
// known identifier of every patient; the test fails listing each leak (request, patient, category,
// spelling found).
import test from 'ava';
import { clientAs, ownerQuery } from './patients-fixtures.ts';
import { enableAi, grantAi, inboundText, must, startAiEnv, type AiEnv } from './ai-fixtures.ts';

let env: AiEnv;
test.before(async () => {
  env = await startAiEnv();
});
test.after.always(async () => {
  await env?.stop();
});

const GIVEN = ['Jürgen', 'Bärbel', 'Jörg', 'Günther', 'Anna-Lena', 'Björn', 'Käthe', 'Sören', 'Gößwein', 'Lütfiye', 'Maximilian', 'Ölgard', 'Ärnulf', 'Hannelore', 'Théodore', 'Søren'];
const FAMILY = ['Müller', 'Weiß', 'Größmann', 'Schäfer', 'Köhler', 'Jäger', 'Strauß', 'Özdemir', 'Krüger', 'Müller-Lüdenscheidt', 'Meißner', 'Bößendörfer', 'Hüßner', 'Kühnemund', 'Grünewald', 'Fußhöller', 'Rößler', 'Dürrschmidt'];
const MONTHS = ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'];
const STAFF = { given: 'Hildegard', family: 'Sauerbruch' };

const ae = (s: string) => s.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/Ä/g, 'Ae').replace(/Ö/g, 'Oe').replace(/Ü/g, 'Ue').replace(/ß/g, 'ss');
const plain = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/ß/g, 'ss');

interface Synthetic {
  givenName: string; familyName: string; birthDate: string; phone: string; email: string; street: string; postalCode: string; iban: string; url: string;
}

function synthetic(i: number): Synthetic {
  const g = GIVEN[i % GIVEN.length];
  const f = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length] + (i >= GIVEN.length * FAMILY.length ? 'er' : '');
  const y = 1940 + (i % 60);
  const m = 1 + (i % 12);
  const d = 1 + (i % 28);
  return {
    givenName: g, familyName: f, birthDate: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    phone: `+49 17${i % 10} ${String(3_000_000 + i * 7919).slice(0, 7)}`,
    email: `${ae(g).toLowerCase().replace(/[^a-z]/g, '')}.${ae(f).toLowerCase().replace(/[^a-z]/g, '')}${i}@beispiel-mail.de`,
    street: `${['Lindenweg', 'Mühlgasse', 'Schloßallee', 'Tannhäuserstraße'][i % 4]} ${1 + (i % 90)}`, postalCode: String(10000 + i * 37).padStart(5, '0'),
    iban: `DE${String(10 + (i % 89))} 3704 0044 0532 ${String(1000 + i).slice(-4)} 00`, url: `https://portal.beispiel-klinik.de/akte/${9000 + i}`,
  };
}

/** The adversarial free texts of one patient (note, treatment, two messages). */
function texts(p: Synthetic, i: number) {
  const [y, m, d] = p.birthDate.split('-').map(Number);
  const F = p.familyName.split('-')[0];
  const G = p.givenName.split('-')[0];
  const digits = p.phone.replace(/\D/g, '').slice(2); // national significant number
  const phones = [
    p.phone, `0${digits.slice(0, 3)} ${digits.slice(3)}`, `0${digits.slice(0, 3)}/${digits.slice(3)}`, `0${digits.slice(0, 3)}-${digits.slice(3, 6)} ${digits.slice(6)}`,
    `(0${digits.slice(0, 3)}) ${digits.slice(3)}`, `0049 ${digits.slice(0, 3)} ${digits.slice(3)}`, `+49 (0)${digits.slice(0, 3)} ${digits.slice(3)}`, `0${digits}`, `+49-${digits.slice(0, 3)}-${digits.slice(3)}`,
  ];
  const [local, domain] = p.email.split('@');
  const emails = [p.email, p.email.toUpperCase(), `<${p.email}>`, `mailto:${p.email}`, `${local} (at) ${domain}`, `${local}[at]${domain}`];
  const dates = [`${d}. ${MONTHS[m - 1]} ${y}`, `${String(d).padStart(2, '0')}.${String(m).padStart(2, '0')}.${y}`, `${d}.${m}.${y}`, p.birthDate, `am ${d} ${ae(MONTHS[m - 1])} ${y}`, `${String(d).padStart(2, '0')}/${String(m).padStart(2, '0')}/${y}`];
  const pick = <T>(list: T[], k: number) => list[(i + k) % list.length];
  const split = F.length > 4 ? `${F.slice(0, 3)}-\n${F.slice(3)}` : F;
  const note = [
    `Pat. ${p.givenName} ${p.familyName.toUpperCase()}, geb. ${pick(dates, 0)}, kommt mit Haarausfall. ${ae(F)} berichtet, Blutverdünner (ASS) seit 2021.`,
    `Rückfragen an ${G[0]}. ${F} unter ${pick(phones, 1)} oder ${pick(emails, 2)}. ${F}s Mutter hatte dasselbe; ${G[0]}.${F[0]}. raucht nicht.`,
    `Laut Hausarzt heißt sie "${plain(G).toLowerCase()} ${plain(F).toLowerCase()}". Wohnhaft ${p.street}, ${p.postalCode} Berlin. Konto ${p.iban}.`,
    `Befund hochgeladen: ${p.url} — ${split} bittet um Rückruf; Dr. ${STAFF.family} informiert.`,
  ].join('\n');
  const treatment = `Sitzung mit ${F}'s Einverständnis, Tel. ${pick(phones, 3)}; Geburtsdatum ${pick(dates, 4)} geprüft; ${ae(p.givenName).toUpperCase()} vertrug es gut. ${STAFF.given} ${STAFF.family} anwesend.`;
  const messages = [
    `Hallo, hier ist ${G.toLowerCase()} ${F.toLowerCase()} (${pick(phones, 5)}), geboren ${pick(dates, 2)}. Meine neue Mail: ${pick(emails, 4)}`,
    `Liebe Praxis, ${ae(F).toUpperCase()} hier. Kann ich den Termin verschieben? Gruß ${G[0]}. ${plain(F)}\n${pick(phones, 7)} / ${pick(emails, 0)}`,
  ];
  return { note, treatment, messages };
}

function identifiers(p: Synthetic): { category: string; value: string; normal: string }[] {
  const out: { category: string; value: string; normal: string }[] = [];
  const names = new Set([p.givenName, p.familyName, ...p.givenName.split('-'), ...p.familyName.split('-')]);
  for (const n of names) for (const v of new Set([n, ae(n), plain(n)])) out.push({ category: 'name', value: v, normal: v.toLowerCase() });
  out.push({ category: 'phone', value: p.phone, normal: p.phone.replace(/\D/g, '').slice(2) });
  out.push({ category: 'email', value: p.email, normal: p.email });
  const [y, m, d] = p.birthDate.split('-').map(Number);
  for (const v of [p.birthDate, `${String(d).padStart(2, '0')}.${String(m).padStart(2, '0')}.${y}`, `${d}.${m}.${y}`, `${d}. ${MONTHS[m - 1]} ${y}`, `${d} ${ae(MONTHS[m - 1])} ${y}`]) out.push({ category: 'birth_date', value: v, normal: v.toLowerCase() });
  out.push({ category: 'address', value: p.street, normal: p.street.replace(/\s*\d+$/, '').toLowerCase() });
  out.push({ category: 'address', value: p.postalCode, normal: p.postalCode });
  out.push({ category: 'iban', value: p.iban, normal: p.iban.replace(/\s/g, '').toLowerCase() });
  out.push({ category: 'url', value: p.url, normal: p.url.toLowerCase() });
  for (const v of [STAFF.given, STAFF.family]) out.push({ category: 'staff_name', value: v, normal: v.toLowerCase() });
  return out;
}

/** Independent of the pseudonymiser: lower case, line-break hyphenation joined, letters-only boundaries for words, digits-only view for phones. */
function findLeaks(raw: string, ids: ReturnType<typeof identifiers>): string[] {
  const body = JSON.parse(raw) as { system: string; messages: { content: string }[] };
  const text = [body.system, ...body.messages.map((m) => m.content)].join('\n').normalize('NFC');
  const joined = text.replace(/-?\n/g, '');
  const views = [text, joined].map((s) => s.toLowerCase());
  const compact = views.map((v) => v.replace(/\s/g, ''));
  const digits = text.replace(/\D/g, '');
  const leaks: string[] = [];
  for (const id of ids) {
    let hit = false;
    if (id.category === 'phone') hit = digits.includes(id.normal);
    else if (id.category === 'iban') hit = compact.some((v) => v.includes(id.normal));
    else if (/^\d+$/.test(id.normal)) hit = views.some((v) => new RegExp(`(?<!\\d)${id.normal}(?!\\d)`).test(v));
    else {
      const esc = id.normal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      hit = views.some((v) => new RegExp(`(?<!\\p{L})${esc}(?!\\p{L})`, 'u').test(v));
    }
    if (hit) leaks.push(`${id.category} "${id.value}"`);
  }
  return leaks;
}

test('no known identifier of 200 synthetic patients appears in any request sent to the Messages API', async (t) => {
  const N = 200;
  await enableAi(env.admin, env.fake.url);
  const doctor = await clientAs(env.app, env.organizationId, ['doctor']);
  await ownerQuery(env.app.db.ownerUrl, 'update users set display_name = ? where id = ?', [`Dr. ${STAFF.given} ${STAFF.family}`, doctor.userId]);
  const started = Date.now();
  const corpus: { p: Synthetic; id: string; ids: ReturnType<typeof identifiers>; requests: number[] }[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < N; i = next++) {
      const p = synthetic(i);
      const tx = texts(p, i);
      const created = await must(env.admin.post('/api/v1/patients', {
        givenName: p.givenName, familyName: p.familyName, sex: i % 2 ? 'female' : 'male', birthDate: p.birthDate, language: 'de', phone: p.phone, email: p.email,
        address: { street: p.street, postalCode: p.postalCode, city: 'Berlin', country: 'DE' }, allowDuplicate: true,
      }), 201);
      const id = created.patient.id as string;
      await grantAi(env.admin, id);
      await must(env.admin.post(`/api/v1/patients/${id}/anamnesis`, { answers: { smoker: i % 3 === 0, blood_thinners: true, blood_thinner_name: `ASS (laut ${p.familyName})`, hair_status: 'norwood_3', free_text: tx.note } }), 201);
      await must(env.admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2025-05-05', type: 'PRP', description: tx.treatment, performedBy: `Dr. ${STAFF.family}` }), 201);
      const m1 = await inboundText(env.app, env.organizationId, id, tx.messages[0]);
      await inboundText(env.app, env.organizationId, id, tx.messages[1]);
      const entry = { p, id, ids: identifiers(p), requests: [] as number[] };
      corpus.push(entry);
      const prep = await doctor.post(`/api/v1/patients/${id}/ai/prepare`, {});
      if (prep.status !== 201) failures.push(`patient ${i}: prepare ${prep.status} ${prep.text}`);
      const tri = await doctor.post(`/api/v1/inbox/patients/${id}/messages/${m1}/triage`, {});
      if (tri.status !== 200) failures.push(`patient ${i}: triage ${tri.status} ${tri.text}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  t.log(`${N} patients created, prepared and triaged in ${Date.now() - started} ms; ${env.fake.requests.length} requests recorded`);
  t.deepEqual(failures, [], failures.slice(0, 10).join('\n'));
  t.true(env.fake.requests.length >= 2 * N, 'every patient was sent twice (prepare, triage)');
  // Every request against every patient's identifiers (names of one patient never occur in
  // another's texts, so a hit is a leak whichever request it is in).
  const leaks: string[] = [];
  env.fake.requests.forEach((r, n) => {
    for (const c of corpus) for (const l of findLeaks(r.raw, c.ids)) leaks.push(`request ${n} (${r.body.tools?.[0]?.name}): patient ${c.p.givenName[0]}… ${l}`);
  });
  t.deepEqual(leaks, [], `${leaks.length} leak(s):\n${leaks.slice(0, 50).join('\n')}`);
  // The health content did go out, so the check above is not vacuous.
  t.true(env.fake.requests.every((r) => r.raw.includes('[NAME_')), 'names were replaced by tokens in every request');
  t.true(env.fake.requests.some((r) => r.raw.includes('Haarausfall') && r.raw.includes('Blutverdünner')));
  // …and the answers came back in clear: a triage reply carries the patient's name again.
  const [blocked] = await ownerQuery<{ n: number }>(env.app.db.ownerUrl, "select count(*)::int as n from ai_requests where outcome = 'blocked_leak'");
  t.log(`requests refused by the final leak check: ${blocked.n}`);
});

test('the independent leak finder does find each category when nothing is scrubbed (the check can fail)', (t) => {
  const p = synthetic(7);
  const tx = texts(p, 7);
  const raw = JSON.stringify({ system: 'x', messages: [{ role: 'user', content: `${tx.note}\n${tx.treatment}\n${tx.messages.join('\n')}` }] });
  const cats = new Set(findLeaks(raw, identifiers(p)).map((l) => l.split(' ')[0]));
  t.deepEqual([...cats].sort(), ['address', 'birth_date', 'email', 'iban', 'name', 'phone', 'staff_name', 'url']);
});
