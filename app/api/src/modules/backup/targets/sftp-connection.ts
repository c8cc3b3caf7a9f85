// One SSH connection with an SFTP session to a Storage Box-style server: key authentication only,
// and the server's host key pinned by its SHA-256 fingerprint (as `ssh-keygen -lf` prints it).
import { createHash } from 'node:crypto';
import { Client, type SFTPWrapper } from 'ssh2';
import { authFailed, hostKeyMismatch, hostKeyUnpinned, unreachable, failed, type TargetError } from './target.errors.ts';

export interface SftpTargetConfig {
  name: string;
  host: string;
  /** Hetzner Storage Boxes serve SFTP with key authentication on port 23. */
  port?: number;
  username: string;
  /** OpenSSH or PEM private key text. */
  privateKey: string | Buffer;
  passphrase?: string;
  /** "SHA256:…" of the server's host key; without it the target refuses to connect. */
  hostKeyFingerprint?: string;
  /** Remote base directory, relative to the login directory unless absolute; default: the login directory. */
  root?: string;
  /** Connect and handshake deadline. */
  readyTimeoutMs?: number;
}

export const DEFAULT_SFTP_PORT = 23;

/** SHA-256 fingerprint of an SSH public key blob, in `ssh-keygen -l` notation. */
export const fingerprintOf = (keyBlob: Buffer) => `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;

/** Accepts "SHA256:abc", "abc" and padded base64. */
const normalizeFingerprint = (text: string) => `SHA256:${text.trim().replace(/^SHA256:/i, '').replace(/=+$/, '')}`;

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET']);

export interface SftpSession {
  client: Client;
  sftp: SFTPWrapper;
}

/** Opens a connection and its SFTP channel; every failure becomes a TargetError with its reason. */
export function connectSftp(config: SftpTargetConfig): Promise<SftpSession> {
  const { name, host, username } = config;
  const port = config.port ?? DEFAULT_SFTP_PORT;
  const pinned = config.hostKeyFingerprint ? normalizeFingerprint(config.hostKeyFingerprint) : undefined;
  let presented: string | undefined;

  const classify = (err: Error & { level?: string; code?: string }): TargetError => {
    if (presented && presented !== pinned) return pinned ? hostKeyMismatch(name, pinned, presented) : hostKeyUnpinned(name, presented);
    if (err.level === 'client-authentication') return authFailed(name, username);
    if (err.level === 'client-timeout' || err.level === 'client-dns' || UNREACHABLE_CODES.has(err.code ?? '')) {
      return unreachable(name, `${host}:${port}`, err);
    }
    return err.level === 'client-socket' ? unreachable(name, `${host}:${port}`, err) : failed(name, 'connect', '', err);
  };

  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(classify(err));
    };
    client.on('error', fail);
    client.on('close', () => fail(Object.assign(new Error('connection closed during setup'), { level: 'client-socket' })));
    client.on('ready', () => {
      client.setNoDelay(true); // SFTP is request/response: Nagle would hold small requests for ACKs
      client.sftp((err, sftp) => {
        if (err) return fail(err);
        settled = true;
        resolve({ client, sftp });
      });
    });
    try {
      connect();
    } catch (err) {
      fail(err as Error); // e.g. a private key that does not parse
    }
    function connect() {
      client.connect({
      host,
      port,
      username,
      privateKey: config.privateKey,
      passphrase: config.passphrase,
      authHandler: ['publickey'],
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return pinned !== undefined && presented === pinned;
      },
      readyTimeout: config.readyTimeoutMs ?? 20_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
    });
    }
  });
}

/** Runs a callback-style SFTP call as a promise. */
export function call<T = void>(fn: (callback: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
