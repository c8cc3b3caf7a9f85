// A local server on loopback that speaks the Anthropic Messages API (POST /v1/messages,
// non-streaming; Praxiskern does not stream) and records every request exactly as received. The
// next answers can be scripted: 429 with retry-after, 529 overloaded, 500, malformed tool output,
// an answer without tool use, or a hang (the client's timeout fires).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export type FakeMode = 'ok' | '429' | '529' | '500' | 'malformed' | 'no_tool' | 'hang' | '401';

/** The API key a request carried (x-api-key or Authorization: Bearer). */
export const keyOf = (r: RecordedRequest) => (r.headers['x-api-key'] as string | undefined) ?? r.headers.authorization?.replace(/^Bearer /, '');

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  sha256: string;
  body: { model: string; system?: string; messages: { role: string; content: string }[]; tools?: { name: string }[]; tool_choice?: unknown; max_tokens: number };
  answered: FakeMode;
}

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  /** Answers to give next, in order; when empty the default mode answers. */
  script: FakeMode[];
  defaultMode: FakeMode;
  retryAfterSeconds: string;
  close(): Promise<void>;
}

const tokensIn = (s: string) => s.match(/\[(?:NAME|DATE|PHONE|EMAIL|ADDRESS|ID|IBAN|URL)_\d+\]/g) ?? [];

function toolInput(name: string, text: string, mode: FakeMode): unknown {
  const tokens = tokensIn(text);
  const sources = text.match(/\[S\d+\]/g)?.map((s) => s.slice(1, -1)) ?? [];
  if (mode === 'malformed') return name === 'file_preparation' ? { summary: 42, findings: 'none' } : { language: 'deutsch', urgency: 'sofort' };
  if (name === 'file_preparation') {
    return {
      summary: `Zusammenfassung der Akte${tokens[0] ? ` (erwähnt ${tokens[0]})` : ''}.`,
      findings: [{ text: 'Diffuser Haarausfall seit einigen Monaten.', sources: sources.slice(0, 1) }, { text: 'Eisenmangel in der Vorgeschichte.', sources: sources.slice(1, 2) }],
      contraindications: [{ flag: 'blood_thinner', text: 'Nimmt Blutverdünner (Marcumar) ein.', sources: sources.slice(0, 1) }],
      openQuestions: [{ text: 'Seit wann genau besteht der Haarausfall?', sources: [] }],
      nextStep: { text: 'Trichogramm und Laborwerte (Ferritin) vor der Behandlung.', sources: sources.slice(0, 2) },
    };
  }
  return {
    language: /\b(ich|und|kann|meinen|bitte)\b/i.test(text) ? 'de' : 'en', urgency: /notfall|blutet stark|emergency/i.test(text) ? 'emergency' : 'routine', topic: /termin|appointment/i.test(text) ? 'appointment' : 'other',
    reason: 'Keine Warnzeichen in der Nachricht.',
    suggestedReply: `Guten Tag${tokens.find((t) => t.startsWith('[NAME')) ? ` ${tokens.find((t) => t.startsWith('[NAME'))}` : ''}, vielen Dank für Ihre Nachricht. Wir melden uns heute.`,
  };
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const fake: FakeAnthropic = {
    url: '', requests: [], script: [], defaultMode: 'ok', retryAfterSeconds: '1',
    close: async () => undefined,
  };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const mode = fake.script.shift() ?? fake.defaultMode;
      let body: RecordedRequest['body'];
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'bad json' } }));
        return;
      }
      fake.requests.push({ path: req.url ?? '', headers: req.headers, raw, sha256: createHash('sha256').update(raw, 'utf8').digest('hex'), body, answered: mode });
      const error = (status: number, type: string, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${fake.requests.length}`, ...headers }).end(JSON.stringify({ type: 'error', error: { type, message: type } }));
      if (req.method !== 'POST' || req.url !== '/v1/messages') return error(404, 'not_found_error');
      // The SDK sends the key as x-api-key or (newer versions) as a bearer token.
      if (!(req.headers['x-api-key'] || /^Bearer \S+$/.test(req.headers.authorization ?? '')) || !req.headers['anthropic-version']) return error(401, 'authentication_error');
      switch (mode) {
        case 'hang': hanging.add(res); return;
        case '401': return error(401, 'authentication_error');
        case '429': return error(429, 'rate_limit_error', { 'retry-after': fake.retryAfterSeconds, 'x-should-retry': 'true' });
        case '529': return error(529, 'overloaded_error', { 'x-should-retry': 'true' });
        case '500': return error(500, 'api_error', { 'x-should-retry': 'true' });
        default: break;
      }
      const text = body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');
      const tool = body.tools?.[0]?.name ?? 'none';
      const content = mode === 'no_tool'
        ? [{ type: 'text', text: 'Ich kann das nicht strukturiert beantworten.' }]
        : [{ type: 'tool_use', id: `toolu_${fake.requests.length}`, name: tool, input: toolInput(tool, text, mode) }];
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${fake.requests.length}` }).end(JSON.stringify({
        id: `msg_${fake.requests.length}`, type: 'message', role: 'assistant', model: body.model, content,
        stop_reason: mode === 'no_tool' ? 'end_turn' : 'tool_use', stop_sequence: null,
        usage: { input_tokens: Math.ceil(raw.length / 4), output_tokens: 120 },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return fake;
}
