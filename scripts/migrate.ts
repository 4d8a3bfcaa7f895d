// `npm run migrate`: applies pending migrations as the owner role
// (DATABASE_URL). The production deployment runs this as a one-shot job.
import 'reflect-metadata';
import { config } from '../lib/config';
import { createDataSource, runMigrations } from '../db/dataSource';
import { ensurePlatformAdmin } from '../db/platformAdmin';

async function main(): Promise<void> {
  const c = config();
  const url = c.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (the owner role connection) is not set');
  const ran = await runMigrations(url);
  console.log(ran.length ? `applied: ${ran.join(', ')}` : 'migrations: up to date');
  const ds = createDataSource({ url, applicationName: 'tenantflow-migrate', poolSize: 1 });
  await ds.initialize();
  try {
    const admin = await ensurePlatformAdmin(ds, { email: c.PLATFORM_ADMIN_EMAIL, password: c.PLATFORM_ADMIN_PASSWORD });
    console.log(
      admin.generatedPassword ? `platform admin created: ${admin.email} / password ${admin.generatedPassword} (shown once)` : `platform admin: ${admin.email}`,
    );
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
