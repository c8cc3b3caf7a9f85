// Off-site backup targets: the contract, the implementations, and one factory from configuration.
import { createLocalDirectoryTarget, type LocalDirectoryTargetConfig } from './local-directory.repository.ts';
import type { SftpTargetConfig } from './sftp-connection.ts';
import { createSftpTarget } from './sftp.repository.ts';
import type { BackupTarget } from './target.ts';

export type TargetConfig = ({ type: 'local' } & LocalDirectoryTargetConfig) | ({ type: 'sftp' } & SftpTargetConfig);

export function createTarget(config: TargetConfig): BackupTarget {
  return config.type === 'local' ? createLocalDirectoryTarget(config) : createSftpTarget(config);
}

export { createLocalDirectoryTarget, createSftpTarget };
export { DEFAULT_SFTP_PORT, fingerprintOf } from './sftp-connection.ts';
export type { LocalDirectoryTargetConfig, SftpTargetConfig };
export { TargetError, type TargetErrorCode } from './target.errors.ts';
export { PARTIAL_MARK, type BackupTarget, type TargetEntry } from './target.ts';
