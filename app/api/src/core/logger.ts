// pino JSON logs; user ids only, never names or patient data.
import { pino, type Logger } from 'pino';

// The server logs to stdout; the admin CLI's other commands to stderr (PRAXISKERN_LOG_STDERR, set by
// appliance/src/cli.ts), so that their --json answer on stdout stays one parseable document.
const toStderr = process.env.PRAXISKERN_LOG_STDERR === 'true';

const options = {
  level: process.env.LOG_LEVEL || 'info',
  base: { service: 'praxiskern' },
  redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'password', 'passphrase', '*.password', '*.passphrase'], remove: true },
  timestamp: pino.stdTimeFunctions.isoTime,
};

export const rootLogger: Logger = toStderr ? pino(options, pino.destination(2)) : pino(options);
