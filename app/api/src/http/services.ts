// The dependencies a request handler or CLI command can use; built once at start.
import type { Config } from '../core/config.ts';
import type { Db } from '../db/connection.ts';
import type { SealService } from '../modules/keystore/seal.service.ts';
import type { KeyStore } from '../modules/keystore/data-keys.ts';
import type { Metrics } from './metrics.ts';

export interface Services {
  config: Config;
  db: Db;
  seal: SealService;
  keys: KeyStore;
  metrics: Metrics;
  /** 32-byte installation key (TOTP secret encryption, OIDC transaction cookies). */
  appKey: Buffer;
  version: string;
}
