// Streaming readers for the BfArM's ICD-10-GM download files (docs/icd.md):
//  - ClaML XML (icd10gm20XXsyst_claml_20XXMMDD.xml): <Class code kind usage> with <SubClass> children
//    and <Rubric kind="preferred"><Label>; read with the SAX parser saxes chunk by chunk (no DOM).
//  - the Metadaten/Systematik text file (icd10gm20XXsyst_kodes_20XXMMDD.txt): one code per line,
//    fields separated by ';' in the documented order (1 level 3/4/5, 2 T/N terminal, 3 X/S,
//    4 chapter, 5 first three-character code of the block, 6 code without a dagger (with * or !),
//    7 code without dash, asterisk and exclamation mark, 8 code without dot, 9 class title, …).
// Both hand their codes to `emit` in batches after every chunk, so memory stays bounded; any
// error names the line (and the element) and aborts the whole import.
import { SaxesParser } from 'saxes';

export interface IcdCode {
  code: string;
  mark: '†' | '*' | '!' | null;
  terminal: boolean;
  label: string;
}

export class IcdFileError extends Error {}

export type Emit = (batch: IcdCode[]) => Promise<void>;
const CODE = /^[A-Z][0-9]{2}(\.[0-9]{1,2})?$/;
const USAGE_MARK: Record<string, IcdCode['mark']> = { dagger: '†', aster: '*', optional: '!' };

/** Decodes UTF-8 strictly; the file is read again as ISO-8859-1 (older BfArM files) when it is not UTF-8. */
async function* text(open: () => AsyncIterable<Buffer>): AsyncGenerator<string> {
  const dec = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of open()) yield dec.decode(chunk, { stream: true });
    yield dec.decode();
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new NotUtf8();
  }
}
class NotUtf8 extends Error {}
async function* latin1(open: () => AsyncIterable<Buffer>): AsyncGenerator<string> {
  for await (const chunk of open()) yield chunk.toString('latin1');
}

async function withEncoding(open: () => AsyncIterable<Buffer>, restart: () => Promise<void>, run: (chunks: AsyncIterable<string>) => Promise<ParseResult>): Promise<ParseResult> {
  try {
    return await run(text(open));
  } catch (err) {
    if (err instanceof NotUtf8) {
      await restart();
      return run(latin1(open));
    }
    throw err;
  }
}

export interface ParseResult {
  /** the catalogue year the file names (ClaML <Title version>), if any */
  version: number | null;
  codes: number;
}

export function parseKodes(open: () => AsyncIterable<Buffer>, emit: Emit, restart: () => Promise<void>): Promise<ParseResult> {
  return withEncoding(open, restart, async (chunks) => {
    let line = 0;
    let rest = '';
    let codes = 0;
    const seen = new Set<string>();
    const one = (raw: string): IcdCode | null => {
      line++;
      const s = raw.replace(/\r$/, '');
      if (s.trim() === '') return null;
      if (s.includes('\0')) throw new IcdFileError(`line ${line}: contains a NUL byte`);
      const f = s.split(';');
      if (f.length < 9) throw new IcdFileError(`line ${line}: has ${f.length} fields, the kodes format has at least 9 (level;T/N;X/S;chapter;block;code;code;code;title;…)`);
      if (!['3', '4', '5'].includes(f[0])) throw new IcdFileError(`line ${line}: field 1 (Klassifikationsebene) must be 3, 4 or 5, not "${f[0].slice(0, 20)}"`);
      if (f[1] !== 'T' && f[1] !== 'N') throw new IcdFileError(`line ${line}: field 2 (terminal) must be T or N, not "${f[1].slice(0, 20)}"`);
      const code = f[6].trim();
      if (!CODE.test(code)) throw new IcdFileError(`line ${line}: field 7 is not an ICD-10-GM code: "${code.slice(0, 20)}"`);
      const withMark = f[5].trim();
      const mark = /[†+]$/.test(withMark) ? '†' : withMark.endsWith('*') ? '*' : withMark.endsWith('!') ? '!' : null;
      const label = f[8].trim();
      if (!label) throw new IcdFileError(`line ${line}: field 9 (class title) of ${code} is empty`);
      if (seen.has(code)) throw new IcdFileError(`line ${line}: code ${code} appears twice`);
      seen.add(code);
      return { code, mark, terminal: f[1] === 'T', label: label.slice(0, 1000) };
    };
    for await (const chunk of chunks) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      const batch: IcdCode[] = [];
      for (const l of lines) {
        const c = one(l);
        if (c) batch.push(c);
      }
      codes += batch.length;
      if (batch.length) await emit(batch);
    }
    if (rest) {
      const c = one(rest);
      if (c) {
        codes++;
        await emit([c]);
      }
    }
    if (!codes) throw new IcdFileError('the file holds no codes');
    return { version: null, codes };
  });
}

interface OpenClass { code: string; kind: string; usage: string | undefined; line: number; sub: number; label: string | null }

export function parseClaml(open: () => AsyncIterable<Buffer>, emit: Emit, restart: () => Promise<void>): Promise<ParseResult> {
  return withEncoding(open, restart, async (chunks) => {
    const p = new SaxesParser({ position: true });
    let failure: Error | null = null;
    let rootSeen = false;
    let rootClosed = false;
    let version: number | null = null;
    let cls: OpenClass | null = null;
    let inPreferred = false;
    let labelDepth = 0;
    let label = '';
    let pending: IcdCode[] = [];
    let codes = 0;
    const seen = new Set<string>();
    const fail = (msg: string) => {
      failure ??= new IcdFileError(`line ${p.line}: ${msg}`);
    };
    p.on('error', (e) => {
      failure ??= new IcdFileError(`line ${p.line}: the XML is malformed: ${e.message.replace(/^.*?:\d+:\d+: /, '')}`);
    });
    p.on('opentag', (t) => {
      if (!rootSeen) {
        rootSeen = true;
        if (t.name !== 'ClaML') fail(`the root element is <${t.name}>, not <ClaML>`);
        return;
      }
      if (labelDepth > 0) return void labelDepth++;
      const a = t.attributes as Record<string, string>;
      if (t.name === 'Title' && !cls) {
        const y = Number(a.version);
        if (Number.isInteger(y) && y >= 2000 && y <= 2100) version = y;
      } else if (t.name === 'Class') {
        if (!a.code) return fail('a <Class> has no code attribute');
        cls = { code: a.code, kind: a.kind ?? '', usage: a.usage, line: p.line, sub: 0, label: null };
      } else if (cls && t.name === 'SubClass') cls.sub++;
      else if (cls && t.name === 'Rubric' && a.kind === 'preferred') inPreferred = true;
      else if (cls && inPreferred && t.name === 'Label') {
        labelDepth = 1;
        label = '';
      }
    });
    const onText = (s: string) => {
      if (labelDepth > 0) label += s;
    };
    p.on('text', onText);
    p.on('cdata', onText);
    p.on('closetag', (t) => {
      if (labelDepth > 0) {
        labelDepth--;
        if (labelDepth === 0 && cls && cls.label === null) cls.label = label.replace(/\s+/g, ' ').trim();
        return;
      }
      if (t.name === 'Rubric') inPreferred = false;
      else if (t.name === 'ClaML') rootClosed = true;
      else if (t.name === 'Class' && cls) {
        const c = cls;
        cls = null;
        if (c.kind !== 'category') return; // chapters and blocks are headings, not codes
        if (!CODE.test(c.code)) return fail(`<Class code="${c.code.slice(0, 20)}"> (line ${c.line}) is not an ICD-10-GM code`);
        if (!c.label) return fail(`<Class code="${c.code}"> (line ${c.line}) has no <Rubric kind="preferred"> label`);
        if (seen.has(c.code)) return fail(`<Class code="${c.code}"> appears twice`);
        seen.add(c.code);
        pending.push({ code: c.code, mark: USAGE_MARK[c.usage ?? ''] ?? null, terminal: c.sub === 0, label: c.label.slice(0, 1000) });
      }
    });
    for await (const chunk of chunks) {
      p.write(chunk);
      if (failure) throw failure;
      if (pending.length) {
        const batch = pending;
        pending = [];
        codes += batch.length;
        await emit(batch);
      }
    }
    try {
      p.close();
    } catch {
      /* reported through the error handler */
    }
    if (failure) throw failure;
    if (!rootSeen) throw new IcdFileError('the file holds no XML element');
    if (!rootClosed) throw new IcdFileError(`line ${p.line}: the file ends before </ClaML> (truncated)`);
    if (pending.length) {
      codes += pending.length;
      await emit(pending);
    }
    if (!codes) throw new IcdFileError('the file holds no <Class kind="category">');
    return { version, codes };
  });
}
