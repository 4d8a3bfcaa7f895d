// An automation's send when its worker dies mid-send: a real worker process
// (started as production starts it) is killed once the SMTP server has the
// message and before it answers. A new worker finishes the run: the message
// was recorded once, handed to SMTP once, and is `uncertain` — recorded so on
// the run's step, never counted as sent, never sent again.
import { type ChildProcess } from 'node:child_process';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { admitRuns, automationTenant, insertAutomation, queueRun, runState } from '../test/helpers/automations';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { startWorkerProcess } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { automationRunWorkflowId } from './automationRun.contract';

jest.setTimeout(240_000);

let db: TestDatabase;
let ds: DataSource;
let smtp: TestSmtpServer;
let temporal: Awaited<ReturnType<typeof connectClient>>;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase('automation-run-crash');
  ds = await openDataSource(db.appUrl, 'tenantflow-automation-run-crash-test');
  smtp = await startSmtpServer();
  temporal = await connectClient();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await temporal?.connection.close();
  await smtp?.stop();
  await ds?.destroy();
  await db?.drop();
});

it('sends at most once and never counts an uncertain send as sent when the worker dies mid-send', async () => {
  const { client } = temporal;
  const taskQueue = uniqueTaskQueue('automation-run-crash');
  const s = await automationTenant(ds, client, taskQueue, smtp.port, 'crash@lead.example');
  const automation = await insertAutomation(ds, s.tenantId, {
    trigger: { type: 'lead.created' },
    steps: [
      { type: 'send_message', inboxId: s.inbox, subject: 'Only once', text: 'Hello {{firstName}}.' },
      { type: 'add_tag', tag: 'contacted' },
    ],
  });
  const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });

  const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const killed = new Promise<void>((resolve) => {
    smtp.beforeAccept = async (mail) => {
      if (!mail.envelope.to.includes('crash@lead.example')) return;
      smtp.beforeAccept = undefined;
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      resolve();
    };
  });
  expect(await admitRuns(ds, client, taskQueue, s.tenantId)).toBe(1);
  await killed;
  const mid = await runState(ds, s.tenantId, runId);
  expect(mid.status).toBe('running');
  expect(mid.steps).toEqual([expect.objectContaining({ path: '0', status: 'running', output: { messageId: expect.stringMatching(/^msg_/) } })]);

  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const handle = client.workflow.getHandle(automationRunWorkflowId({ tenantId: s.tenantId, automationId: automation, runId }));
  expect(await handle.result()).toEqual({ status: 'completed' });

  const run = await runState(ds, s.tenantId, runId);
  expect(run.steps.map((x) => [x.path, x.status])).toEqual([
    ['0', 'completed'],
    ['1', 'completed'],
  ]);
  expect(run.steps[0]!.output).toEqual({ messageId: mid.steps[0]!.output!.messageId, outcome: 'uncertain' });
  const messages = (await withTenant(ds, s.tenantId, (m) =>
    m.query("SELECT id, status FROM messages WHERE lead_id = $1 AND direction = 'outbound'", [s.lead]),
  )) as { id: string; status: string }[];
  expect(messages).toEqual([{ id: mid.steps[0]!.output!.messageId, status: 'uncertain' }]);
  expect(smtp.received.filter((r) => r.envelope.to.includes('crash@lead.example'))).toHaveLength(1);
});
