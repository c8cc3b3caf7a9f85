// A real SMTP server on loopback (npm smtp-server) with STARTTLS and a certificate made at test
// time by openssl (a throwaway CA-less self-signed certificate for 127.0.0.1/localhost, which the
// app trusts through PRAXISKERN_SMTP_CA_FILE, so TLS is verified as in production). Collects the mails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail { from: string; to: string[]; data: string; secure: boolean }

export interface TestSmtp {
  host: string;
  port: number;
  caFile: string;
  passwordFile: string;
  user: string;
  mails: ReceivedMail[];
  /** Reply with a 4xx to every RCPT (temporary failure) while true. */
  tempFail: boolean;
  close(): Promise<void>;
}

/** starttls: false makes a server without TLS at all (STARTTLS refused). */
export async function startTestSmtp(opts: { starttls?: boolean } = {}): Promise<TestSmtp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-smtp-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const user = 'praxis';
  const password = 'smtp-test-password';
  const passwordFile = path.join(dir, 'smtp-password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  const mails: ReceivedMail[] = [];
  const smtp = { mails, tempFail: false } as TestSmtp;
  const server = new SMTPServer({
    secure: false, ...(opts.starttls === false ? { disabledCommands: ['STARTTLS'] } : {}), key: readFileSync(key), cert: readFileSync(cert),
    authOptional: false, allowInsecureAuth: false, logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) cb(null, { user });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (smtp.tempFail) {
        const err = new Error('Try again later') as Error & { responseCode: number };
        err.responseCode = 451;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8'), secure: session.secure });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  Object.assign(smtp, {
    host: '127.0.0.1', port: (server.server.address() as AddressInfo).port, caFile: cert, passwordFile, user,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
  return smtp;
}
