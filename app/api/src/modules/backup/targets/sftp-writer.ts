// A Writable onto an open SFTP file handle that keeps several WRITE requests in flight (ssh2's own
// write stream waits for each one, which over a WAN link to a Storage Box is latency-bound).
import { Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

const MAX_IN_FLIGHT = 8;

/** Writes sequentially from offset 0; closes the handle exactly once (on finish or on destroy). */
export function sftpFileWriter(sftp: SFTPWrapper, handle: Buffer): Writable {
  let position = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let waiting: (() => void) | undefined; // a write waiting for a free slot, or final() for all of them
  let closed = false;

  const settle = () => {
    const next = waiting;
    waiting = undefined;
    next?.();
  };
  // OpenSSH reuses handle values: closing one twice could close another file of this session.
  const closeOnce = (callback: (err?: Error) => void) => {
    if (closed) return callback();
    closed = true;
    sftp.close(handle, (err) => callback(err ?? undefined));
  };

  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      if (failure) return callback(failure);
      inFlight++;
      sftp.write(handle, chunk, 0, chunk.length, position, (err) => {
        inFlight--;
        if (err && !failure) failure = err;
        settle();
      });
      position += chunk.length;
      if (inFlight < MAX_IN_FLIGHT) return callback();
      waiting = () => callback(failure);
    },
    final(callback) {
      const finish = () => {
        if (inFlight > 0) return void (waiting = finish);
        if (failure) return callback(failure);
        closeOnce(callback);
      };
      finish();
    },
    destroy(err, callback) {
      closeOnce(() => callback(err));
    },
  });
}
