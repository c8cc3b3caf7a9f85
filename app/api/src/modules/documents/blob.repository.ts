// Blob store: one file per blob under PRAXISKERN_DATA_DIR/blobs, named by a random id, holding
// AES-256-GCM ciphertext under the patient's data key. Writes are atomic (temp file + rename).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export const blobDir = (dataDir: string) => path.join(dataDir, 'blobs');
export const newBlobId = () => randomBytes(24).toString('base64url');

function blobPath(dataDir: string, id: string): string {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(id)) throw new Error('invalid blob id');
  return path.join(blobDir(dataDir), id.slice(0, 2), id);
}

export async function writeBlob(dataDir: string, id: string, data: Buffer): Promise<void> {
  const file = blobPath(dataDir, id);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

export async function readBlob(dataDir: string, id: string): Promise<Buffer> {
  return readFile(blobPath(dataDir, id));
}

export async function deleteBlob(dataDir: string, id: string): Promise<void> {
  await rm(blobPath(dataDir, id), { force: true });
}
