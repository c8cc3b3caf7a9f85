import { defineRoute } from '../../http/route.ts';
import { conflict } from '../../core/errors.ts';
import { newTotpSecret, otpauthUrl } from '../auth/totp.ts';
import { createSession, setSessionCookies } from '../auth/session.service.ts';
import { withScope } from '../../db/connection.ts';
import { isInitialized } from './setup.repository.ts';
import { runSetup } from './setup.service.ts';
import { setupBody } from './setup.schema.ts';
import { createRecoveryKit } from '../backup/kit.service.ts';
import { ok } from '../../http/response.ts';
import { setupResultView, setupStateView } from './setup.schema.ts';

export const setupRoutes = [
  defineRoute({
    method: 'get', path: '/setup', access: 'public', whileSealed: true, tags: ['setup'],
    summary: 'First-run state and a fresh TOTP secret for the first administrator',
    response: ok(setupStateView),
    handler: async ({ services }) => {
      if (await isInitialized(services.db)) return { initialized: true };
      const secret = newTotpSecret();
      return { initialized: false, totpSecret: secret, otpauthUrl: otpauthUrl('Praxiskern', 'admin', secret) };
    },
  }),
  defineRoute({
    method: 'post', path: '/setup', access: 'public', whileSealed: true, tags: ['setup'], body: setupBody,
    summary: 'Complete the first-run setup; logs the new administrator in and returns the recovery codes once',
    response: ok(setupResultView),
    handler: async ({ ctx, services, body }) => {
      if (await isInitialized(services.db)) throw conflict('Praxiskern is already set up');
      const result = await runSetup(services, body);
      const issued = await withScope(services.db, { organizationId: result.organizationId, userId: result.userId }, (trx) =>
        createSession(trx, services.config, { organizationId: result.organizationId, userId: result.userId, roles: ['admin'], method: 'setup' }, ctx.ip, ctx.get('user-agent')),
      );
      setSessionCookies(ctx, services.config, issued);
      // The offline backup identity: shown once here, only its recipient stays on the server.
      const kit = await createRecoveryKit(services, { organization: body.organizationName, locale: body.locale ?? 'de' });
      ctx.set('cache-control', 'no-store');
      return {
        organizationId: result.organizationId, userId: result.userId, recoveryCodes: result.recoveryCodes, csrfToken: issued.csrfToken,
        recoveryKit: { installationId: kit.installationId, recipient: kit.recipient, identity: kit.identity, html: kit.html },
      };
    },
  }),
];
