// Small ICD-10-GM files in the BfArM's two documented formats, written by the tests themselves:
// ClaML XML (Class code/kind/usage, SubClass, Rubric kind="preferred" Label) and the Metadaten
// "kodes" text file (';'-separated, fields in the documented order). Umlauts, terminal and
// non-terminal codes, a dagger/asterisk pair (E10.40† / G63.2*) and an optional code (U69.00!).

export interface Code { code: string; label: string; terminal: boolean; usage?: 'dagger' | 'aster' | 'optional' }

export const CODES: Code[] = [
  { code: 'E10', label: 'Diabetes mellitus, Typ 1', terminal: false },
  { code: 'E10.4', label: 'Diabetes mellitus, Typ 1: Mit neurologischen Komplikationen', terminal: false },
  { code: 'E10.40', label: 'Diabetes mellitus, Typ 1: Mit neurologischen Komplikationen: Nicht als entgleist bezeichnet', terminal: true, usage: 'dagger' },
  { code: 'G63.2', label: 'Diabetische Polyneuropathie', terminal: true, usage: 'aster' },
  { code: 'L64', label: 'Alopecia androgenetica', terminal: false },
  { code: 'L64.0', label: 'Arzneimittelinduzierte Alopecia androgenetica', terminal: true },
  { code: 'L64.9', label: 'Alopecia androgenetica, nicht näher bezeichnet', terminal: true },
  { code: 'R50.9', label: 'Fieber, nicht näher bezeichnet', terminal: true },
  { code: 'E66.0', label: 'Adipositas durch übermäßige Kalorienzufuhr', terminal: true },
  { code: 'M54.5', label: 'Kreuzschmerz', terminal: true },
  { code: 'U69.00', label: 'Anderenorts klassifizierte, im Krankenhaus erworbene Pneumonie bei Patienten von 18 Jahren und älter', terminal: true, usage: 'optional' },
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function claml(codes: Code[] = CODES, version = 2026): string {
  const classes = codes.map((c) => {
    const subs = codes.filter((s) => s.code !== c.code && s.code.startsWith(c.code) && s.code.length === (c.code.length === 3 ? 5 : c.code.length + 1));
    return [
      `  <Class code="${c.code}" kind="category"${c.usage ? ` usage="${c.usage}"` : ''}>`,
      `    <SuperClass code="${c.code.slice(0, 3)}-${c.code.slice(0, 3)}"/>`,
      ...subs.map((s) => `    <SubClass code="${s.code}"/>`),
      `    <Rubric id="r-${c.code}" kind="preferred"><Label xml:lang="de" xml:space="default">${esc(c.label)}</Label></Rubric>`,
      `    <Rubric id="i-${c.code}" kind="inclusion"><Label xml:lang="de">Beispiel <Reference>XYZ</Reference></Label></Rubric>`,
      '  </Class>',
    ].join('\n');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ClaML SYSTEM "ClaML.dtd">
<ClaML version="2.0.0">
  <Meta name="lang" value="de"/>
  <Identifier authority="BfArM" uid="icd10gm${version}"/>
  <Title name="ICD-10-GM" version="${version}" date="${version - 1}-09-12">Internationale statistische Klassifikation der Krankheiten</Title>
  <ClassKinds><ClassKind name="chapter"/><ClassKind name="block"/><ClassKind name="category"/></ClassKinds>
  <UsageKinds><UsageKind name="aster" mark="*"/><UsageKind name="dagger" mark="†"/><UsageKind name="optional" mark="!"/></UsageKinds>
  <Class code="IV" kind="chapter"><SubClass code="E10-E14"/><Rubric id="c4" kind="preferred"><Label xml:lang="de">Endokrine, Ernährungs- und Stoffwechselkrankheiten</Label></Rubric></Class>
  <Class code="E10-E14" kind="block"><SuperClass code="IV"/><SubClass code="E10"/><Rubric id="b1" kind="preferred"><Label xml:lang="de">Diabetes mellitus</Label></Rubric></Class>
${classes.join('\n')}
</ClaML>
`;
}

/** One line of icd10gm20XXsyst_kodes_….txt (28 fields; the importer reads 1, 2, 6, 7 and 9). */
export function kodesLine(c: Code): string {
  const level = c.code.length === 3 ? 3 : c.code.length === 5 ? 4 : 5;
  const six = c.code + (c.usage === 'aster' ? '*' : c.usage === 'optional' ? '!' : '') + (c.terminal || c.code.includes('.') ? '' : '.-').slice(0, c.code.length === 3 ? 2 : 0);
  return [level, c.terminal ? 'T' : 'N', 'X', '04', c.code.slice(0, 3), six, c.code, c.code.replace('.', ''), c.label, c.label, '', '',
    c.usage === 'aster' ? 'O' : c.usage === 'optional' ? 'Z' : 'P', 'P', '4-002', '3-003', '2-001', '1-002', '4-006', '9', '9', '000', '999', '9', 'N', 'J', 'N', 'N'].join(';');
}

export const kodes = (codes: Code[] = CODES) => codes.map(kodesLine).join('\r\n') + '\r\n';
