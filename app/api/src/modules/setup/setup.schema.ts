import { z } from 'zod';
import { named } from '../../http/response.ts';

export const setupBody = z.strictObject({
  organizationName: z.string().trim().min(1).max(200),
  organizationSlug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes, 2–63 characters'),
  adminUsername: z.string().regex(/^[a-z0-9._-]{3,64}$/i, '3–64 letters, digits, dot, dash or underscore'),
  adminDisplayName: z.string().trim().min(1).max(200),
  adminEmail: z.email().max(320).optional(),
  adminPassword: z.string().min(12).max(1024),
  passphrase: z.string().min(12).max(1024),
  totpSecret: z.string().regex(/^[A-Z2-7]{32}$/, 'must be the 32-character base32 secret from GET /setup'),
  totpCode: z.string().regex(/^\d{6}$/, 'six digits'),
  locale: z.enum(['de', 'en']).optional(),
});

// ---- answers (http/response.ts) ----

/** The printable recovery kit: the offline age identity (or its Shamir shares) and the page to print. Shown once. */
export const recoveryKitView = named('RecoveryKit', z.strictObject({
  installationId: z.string(),
  recipient: z.string(),
  signer: z.string().optional(),
  createdAt: z.string().optional(),
  /** Present without shares; with shares only the shares hold the identity. */
  identity: z.string().optional(),
  shares: z.array(z.string()).optional(),
  html: z.string(),
}));

export const setupStateView = named('SetupState', z.union([
  z.strictObject({ initialized: z.literal(true) }),
  z.strictObject({ initialized: z.literal(false), totpSecret: z.string(), otpauthUrl: z.string() }),
]));

export const setupResultView = named('SetupResult', z.strictObject({
  organizationId: z.uuid(),
  userId: z.uuid(),
  recoveryCodes: z.array(z.string()),
  csrfToken: z.string(),
  recoveryKit: recoveryKitView,
}));
