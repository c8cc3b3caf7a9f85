// pino JSON logs; user ids only, never names or patient data.
import { pino, type Logger } from 'pino';

export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL || 'info',
  base: { service: 'praxiskern' },
  redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'password', 'passphrase', '*.password', '*.passphrase'], remove: true },
  timestamp: pino.stdTimeFunctions.isoTime,
});
