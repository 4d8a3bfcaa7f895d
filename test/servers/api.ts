// The API in a process of its own, for a suite that measures the process
// (the export's memory): `node --import tsx test/servers/api.ts DATABASE_URL`
// serves createApp() on a free loopback port and prints one JSON line with
// the port; the suite reads the process's RSS from /proc, not its own.
import 'reflect-metadata';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../../api/app';
import { API_DATABASE_DEADLINES, createDataSource } from '../../db/dataSource';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: api.ts DATABASE_URL');
  const dataSource = createDataSource({ url, applicationName: 'tenantflow-test-api', deadlines: API_DATABASE_DEADLINES });
  await dataSource.initialize();
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const server = createApp({ dataSource, client, log: pino({ level: 'silent' }) }).listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' ? address?.port : undefined })}\n`);
  });
  process.once('SIGTERM', () => server.close(() => void dataSource.destroy().finally(() => process.exit(0))));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
