// Public face of the age v1 implementation (https://age-encryption.org/v1), X25519 recipients only.
export { AgeError, type AgeErrorCode } from './age.errors.ts';
export { decryptStream } from './age-decrypt.service.ts';
export { encryptStream } from './age-encrypt.service.ts';
export { decryptFile, encryptFile, readIdentityFile } from './age.repository.ts';
export { dearmor } from './armor.ts';
export { generateIdentity, identityToRecipient, parseIdentity, parseRecipient } from './x25519.ts';
