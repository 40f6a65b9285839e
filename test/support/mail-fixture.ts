import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { authorizeLink, createCustomLink } from './connected-link.js';
import { startDovecot, type TestDovecot } from './dovecot.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';
import { startTestApp, type TestApp } from './test-app.js';

/** The mailbox the mail links sign in as: the account that consents, so also the token's `sub`. */
export const MAILBOX = 'alice@example.test';

/** The env of a mail suite's app: plain-text Dovecot on loopback, background refresh only hourly. */
export const mailSuiteEnv = (publicBaseUrl: string) => ({
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: publicBaseUrl,
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
});

export interface MailFixture {
  t: TestApp;
  provider: TestProvider;
  dovecot: TestDovecot;
  /** A custom link authorized by MAILBOX, with the `email` scope and `mail` settings if given. */
  connectMailLink(mail?: object): Promise<string>;
  /** Lets the link's refresh budget pass (its last refresh 31 s further back). */
  ageToken(linkId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * An app on `env`, the test provider (access tokens live 10 minutes) and a private Dovecot that
 * introspects every token at that provider (test/support/dovecot.ts).
 */
export async function startMailFixture(env: Record<string, string>): Promise<MailFixture> {
  const t = await startTestApp({ env });
  const provider = await startTestProvider({
    redirectUri: t.config.redirectUrl,
    accessTokenTtlSeconds: 600,
  }).catch(async (error: unknown) => {
    await t.close();
    throw error;
  });
  const dovecot = await startDovecot({
    introspectionUrl: `${provider.issuer}/token/introspection`,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
  }).catch(async (error: unknown) => {
    await t.close();
    await provider.close();
    throw error;
  });

  return {
    t,
    provider,
    dovecot,
    async connectMailLink(mail?: object): Promise<string> {
      const { id } = await createCustomLink(t, provider, {
        scopes: ['openid', 'offline_access', 'email'],
        ...(mail === undefined ? {} : { mail }),
      });
      await authorizeLink(t, id, MAILBOX);
      return id;
    },
    async ageToken(linkId: string): Promise<void> {
      await t.dataSource.query(
        `UPDATE links SET last_refreshed_at = last_refreshed_at - interval '31 seconds' WHERE id = $1`,
        [linkId],
      );
      await t.app.get(ChangeNotifications).publish({ kind: 'link', id: linkId });
    },
    async close(): Promise<void> {
      await dovecot.stop();
      await t.close();
      await provider.close();
    },
  };
}
