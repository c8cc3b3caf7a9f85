// A local server on loopback that speaks the part of the AviationStack API the flight-status
// look-up uses: GET /flights?access_key=…&flight_iata=…&flight_date=… → { data: [...] } with
// arrival.scheduled/estimated/actual and flight_status, or { error: { code, message } }. It records
// every request (path and query), can be slow, down (503) or refuse a wrong key (401).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFlight { flightIata: string; date: string; status: string; scheduled: string; estimated?: string; actual?: string }

export interface FakeAviationStack {
  url: string;
  accessKey: string;
  mode: 'ok' | 'down' | 'slow';
  /** How long a 'slow' answer waits. */
  delayMs: number;
  flights: FakeFlight[];
  requests: { method: string; path: string; query: Record<string, string>; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

export async function startFakeAviationStack(accessKey = `test-${Math.random().toString(36).slice(2, 14)}`): Promise<FakeAviationStack> {
  const sockets = new Set<import('node:net').Socket>();
  const fake: FakeAviationStack = {
    url: '', accessKey, mode: 'ok', delayMs: 2000, flights: [], requests: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake');
      const query = Object.fromEntries(u.searchParams);
      fake.requests.push({ method: req.method ?? '', path: u.pathname, query, headers: req.headers, body });
      const send = (status: number, value: unknown) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const answer = () => {
        if (fake.mode === 'down') return send(503, { error: { code: 'service_unavailable', message: 'down' } });
        if (u.pathname !== '/v1/flights' || req.method !== 'GET') return send(404, { error: { code: 'not_found', message: 'no such endpoint' } });
        if (query.access_key !== fake.accessKey) return send(401, { error: { code: 'invalid_access_key', message: 'You have not supplied a valid API Access Key.' } });
        const data = fake.flights.filter((f) => f.flightIata === query.flight_iata && f.date === query.flight_date).map((f) => ({
          flight_date: f.date, flight_status: f.status,
          departure: { airport: 'Dubai', iata: 'DXB', scheduled: f.scheduled },
          arrival: { airport: 'Frankfurt', iata: 'FRA', scheduled: f.scheduled, estimated: f.estimated ?? null, actual: f.actual ?? null },
          flight: { number: f.flightIata.slice(2), iata: f.flightIata, icao: null },
        }));
        send(200, { pagination: { limit: 100, offset: 0, count: data.length, total: data.length }, data });
      };
      if (fake.mode === 'slow') setTimeout(answer, fake.delayMs);
      else answer();
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
