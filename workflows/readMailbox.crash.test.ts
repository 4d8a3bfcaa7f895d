// The mailbox reader when its worker dies mid-sync: the worker (a real
// process, started as production starts it) is killed with SIGKILL once some
// batches of a long sync have committed; a new worker picks the activity up
// after its heartbeat timeout and resumes from the committed checkpoint. Every
// message of the mailbox is stored exactly once.
import { type ChildProcess } from 'node:child_process';
import { type DataSource } from 'typeorm';
import { generateKey, parseKeyring } from '../lib/encryption';
import { testApp } from '../test/helpers/api';
import { createTenant } from '../test/helpers/fixtures';
import { startGreenMail, type TestGreenMail } from '../test/helpers/greenmail';
import { checkpointOf, mailboxFixture, noteFromLead, noteId, pointImapAt, startReader, storedInbound } from '../test/helpers/mailboxReader';
import { startWorkerProcess, until } from '../test/helpers/processes';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';

jest.setTimeout(180_000);

const KEYS = `v1:${generateKey()}`;
const keyring = parseKeyring(KEYS, 'v1');
const suite = useSuiteDatabase('read-mailbox-crash');
let ds: DataSource;
let gm: TestGreenMail;
let temporal: Awaited<ReturnType<typeof connectClient>>;
const workers: ChildProcess[] = [];
const readers: string[] = [];

beforeAll(async () => {
  ds = suite.ds;
  gm = await startGreenMail();
  temporal = await connectClient();
  // The worker processes open the IMAP password with the same keyring (they inherit the environment).
  process.env.TENANTFLOW_ENCRYPTION_KEYS = KEYS;
  process.env.TENANTFLOW_ENCRYPTION_KEY_ID = 'v1';
});

afterAll(async () => {
  for (const id of readers)
    await temporal.client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await temporal?.connection.close();
  await gm?.stop();
});

it('loses and duplicates nothing when the worker is killed after some batches committed', async () => {
  const taskQueue = uniqueTaskQueue('read-mailbox-crash');
  const t = await createTenant(ds, { customers: 1 });
  const [owner] = await signedInMembers(ds, testApp(ds, { keyring }), t, ['owner']);
  const f = await mailboxFixture(owner!, gm, { tenantId: t.tenant.id, customerId: t.customers[0]!.id }, 'crash');
  await pointImapAt(ds, keyring, gm, f);
  const total = 200;
  await Promise.all(
    Array.from({ length: 4 }, async (_, lane) => {
      for (let n = 1 + lane; n <= total; n += 4) await gm.append(f.user, noteFromLead(f, n));
    }),
  );

  const first = startWorkerProcess({ databaseAppUrl: suite.db.appUrl, taskQueue }, workers);
  // Small batches in one long activity call: the kill lands inside it, between commits.
  const handle = await startReader(temporal.client, taskQueue, f, { limits: { batchMessages: 5, batchesPerCall: 100 } });
  readers.push(handle.workflowId);
  const atKill = await until(
    'some batches to commit',
    async () => {
      const c = await checkpointOf(ds, f);
      return c && c.last_uid >= 25 ? c : undefined;
    },
    60_000,
    10,
  );
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const committed = (await checkpointOf(ds, f))!;
  expect(committed.last_uid).toBeLessThan(total);
  expect((await storedInbound(ds, f)).size).toBe(committed.stored);
  expect(atKill.last_uid).toBeGreaterThanOrEqual(25);

  // The new worker gets the activity once the dead attempt's heartbeat times out.
  startWorkerProcess({ databaseAppUrl: suite.db.appUrl, taskQueue }, workers);
  const stored = await until(
    'every message stored',
    async () => {
      const s = await storedInbound(ds, f);
      return s.size >= total ? s : undefined;
    },
    120_000,
  );
  expect([...stored.keys()].sort()).toEqual(Array.from({ length: total }, (_, i) => noteId(f, i + 1)).sort());
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
  expect(await checkpointOf(ds, f)).toMatchObject({ last_uid: total, stored: total, error: null });
});
