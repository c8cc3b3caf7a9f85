// The API process and the worker each hold the master key only after an unseal. When the API is
// unsealed (first-run setup, the unseal page or its admin socket) it hands the passphrase on to the
// worker's admin socket (PRAXISKERN_WORKER_SOCKET, on the data volume both share), so backups get
// the drill key and drills can run without a second unseal. A setup commits after the key exists,
// so a refused attempt is retried a few times.
import http from 'node:http';
import { rootLogger } from './core/logger.ts';

function post(socketPath: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path: '/unseal', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Stops retrying once signal aborts (the server is closing: a later process may own the socket path). */
export async function forwardUnseal(socketPath: string, passphrase: string, signal: AbortSignal, attempts = 20, delayMs = 250): Promise<boolean> {
  for (let i = 0; i < attempts && !signal.aborted; i++) {
    const status = await post(socketPath, { passphrase }).catch(() => 0);
    if (status === 200) return true;
    if (status === 400) break; // the worker refused the passphrase: no point retrying
    await new Promise((r) => setTimeout(r, delayMs));
  }
  if (signal.aborted) return false;
  rootLogger.warn('the worker could not be unsealed from here; unseal it with "praxiskern unseal" in the worker');
  return false;
}
