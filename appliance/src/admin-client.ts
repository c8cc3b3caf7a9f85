// Talks to the running server's admin socket (PRAXISKERN_ADMIN_SOCKET, default $PRAXISKERN_DATA_DIR/run/admin.sock).
import http from 'node:http';
import { loadConfig } from '@praxiskern/api/core/config.ts';

export function adminRequest(method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const socketPath = loadConfig().adminSocket;
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, headers: { 'content-type': 'application/json' } }, (res) => {
      let raw = '';
      res.on('data', (c) => (raw += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw || '{}') });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? `the server is not running (no admin socket at ${socketPath})` : err.message)),
    );
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
