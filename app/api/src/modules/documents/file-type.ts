// Type detection by content (magic bytes), never by file name or declared type.
export const ALLOWED = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type AllowedType = (typeof ALLOWED)[number];

const starts = (b: Buffer, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

export function detectType(b: Buffer): AllowedType | undefined {
  if (starts(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  return undefined;
}

/** A human description of common non-allowed content, for the error message. */
export function describe(b: Buffer): string {
  if (starts(b, [0x4d, 0x5a])) return 'a Windows executable';
  if (starts(b, [0x7f, 0x45, 0x4c, 0x46])) return 'an ELF executable';
  if (starts(b, [0xcf, 0xfa, 0xed, 0xfe]) || starts(b, [0xfe, 0xed, 0xfa, 0xcf])) return 'a macOS executable';
  if (starts(b, [0x23, 0x21])) return 'a script';
  if (starts(b, [0x50, 0x4b, 0x03, 0x04])) return 'a ZIP archive or Office file';
  if (starts(b, [0x47, 0x49, 0x46, 0x38])) return 'a GIF image';
  if (/^\s*</.test(b.subarray(0, 64).toString('latin1'))) return 'HTML, SVG or XML';
  return 'an unknown format';
}

export const extensionOf: Record<AllowedType, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'application/pdf': 'pdf',
};
