// `npm run migrate`: applies pending migrations as the owner role
// (DATABASE_URL). The production deployment runs this as a one-shot job.
import 'reflect-metadata';
import { config } from '../lib/config';
import { runMigrations } from '../db/dataSource';

async function main(): Promise<void> {
  const url = config().DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (the owner role connection) is not set');
  const ran = await runMigrations(url);
  console.log(ran.length ? `applied: ${ran.join(', ')}` : 'migrations: up to date');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
