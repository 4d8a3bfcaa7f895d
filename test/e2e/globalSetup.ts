// Browser tests run against the whole product, started the way `npm start`
// starts it (same launcher), on free ports and in a throwaway data dir.
import { type Platform } from '../../scripts/lib/platform';
import { startThrowawayPlatform } from '../helpers/platform';

declare global {
  var __TENANTFLOW_E2E_PLATFORM__: Platform | undefined;
}

export default async function globalSetup(): Promise<void> {
  const { platform, dataDir, env } = await startThrowawayPlatform('e2e', {
    PLATFORM_ADMIN_EMAIL: 'ops@tenantflow.test',
    PLATFORM_ADMIN_PASSWORD: 'platform admin password',
    // A reply appended to a mailbox shows within seconds, not the minute a real mailbox is polled at.
    MAILBOX_POLL_SECONDS: '2',
  });
  globalThis.__TENANTFLOW_E2E_PLATFORM__ = platform;
  process.env.TF_E2E_CONSOLE_URL = platform.urls.console;
  process.env.TF_E2E_API_URL = platform.urls.api;
  process.env.TF_E2E_TEMPORAL_UI_URL = platform.urls.temporalUi ?? '';
  process.env.TF_E2E_DATA_DIR = dataDir;
  process.env.TF_E2E_SMTP_SINK_PORT = env.SMTP_SINK_PORT;
  // The local mail server (GreenMail, any login): inboxes read it over IMAP, answers arrive through its SMTP.
  process.env.TF_E2E_IMAP_PORT = env.GREENMAIL_IMAP_PORT;
  process.env.TF_E2E_GREENMAIL_SMTP_PORT = env.GREENMAIL_SMTP_PORT;
  process.env.TF_E2E_ADMIN_EMAIL = env.PLATFORM_ADMIN_EMAIL;
  process.env.TF_E2E_ADMIN_PASSWORD = env.PLATFORM_ADMIN_PASSWORD;
  // Owner-role connection for seeding fixtures (inside each tenant's RLS context).
  process.env.TF_E2E_DATABASE_URL = platform.databaseUrl;
}
