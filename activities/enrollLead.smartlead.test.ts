// The Smartlead-style send provider at its HTTP boundary (docs/providers.md),
// through the real send activity: the send key travels as Idempotency-Key, so
// an attempt that failed after the provider accepted — or died mid-send — is
// repeated with the same key and the provider keeps one message.
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring, seal } from '../lib/encryption';
import { providerKeyAad } from '../lib/secretScopes';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startFakeSmartlead, type FakeSmartlead } from '../test/helpers/fakeSmartlead';
import { addLeads, createCampaign } from '../test/helpers/outreach';
import { createEnrollLeadActivities } from './enrollLead';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
let db: TestDatabase;
let ds: DataSource;
let provider: FakeSmartlead;
let t: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  db = await createTestDatabase('smartlead-send');
  ds = await openDataSource(db.appUrl);
  provider = await startFakeSmartlead();
  t = await createTenant(ds, { customers: 1 });
  const user = await createUser(ds);
  await addMember(ds, t, user, 'owner');
  owner = await signIn(testApp(ds, { keyring }), user.email);
});

afterAll(async () => {
  await provider?.stop();
  await ds?.destroy();
  await db?.drop();
});

it('sends through the provider with the send key as Idempotency-Key, and a retry never makes a second message', async () => {
  const customerId = t.customers[0]!.id;
  const apiKey = provider.issueClientKey(4242);
  const sealed = seal(keyring, apiKey, providerKeyAad(t.tenant.id, customerId, 'smartlead'));
  await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "INSERT INTO provider_accounts (tenant_id, customer_id, provider, status, external_name, external_account_id, api_key_ciphertext, api_key_key_id) VALUES (current_setting('app.tenant_id')::uuid, $1, 'smartlead', 'active', 'x', '4242', $2, $3)",
      [customerId, sealed.ciphertext, sealed.keyId],
    ),
  );
  const inbox = await owner
    .post('/api/inboxes')
    .set('X-Customer-Id', customerId)
    .send({ provider: 'smartlead', fromEmail: 'sdr@agency.example', fromName: 'SDR', dailyCap: 10 });
  expect(inbox.status).toBe(201);
  const campaign = await createCampaign(owner, customerId, {
    inboxIds: [inbox.body.id],
    steps: [
      { subject: 'Hi {{firstName}}', body: 'One for {{company}}', delayHours: 0 },
      { subject: 'Again', body: 'Two', delayHours: 0 },
    ],
  });
  await addLeads(owner, customerId, campaign, [{ email: 'sam@lead.example', firstName: 'Sam', company: 'Samco' }]);
  const [rows] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("UPDATE enrollments SET status = 'active', sequence_version = 1 WHERE campaign_id = $1 RETURNING id", [campaign]),
  )) as [{ id: string }[], number];
  const enrollmentId = rows[0]!.id;

  const activities = createEnrollLeadActivities({
    dataSource: ds,
    keyring,
    smartlead: { baseUrl: provider.baseUrl, apiKey: provider.adminKey },
    apiUrl: 'https://api.example',
  });
  const ref = { tenantId: t.tenant.id, enrollmentId };
  const send = (step: number) => activities.reserveAndSendStep({ ...ref, step, at: Date.now() });

  // Step 1: the provider accepts but answers 502; the retry (which finds the slot it took) repeats the key.
  provider.failAfterNextSend = true;
  await expect(send(1)).rejects.toThrow(/502/);
  expect(await send(1)).toEqual({ outcome: 'sent' });
  expect(provider.messages).toHaveLength(1);
  expect(provider.messages[0]).toMatchObject({
    clientId: 4242,
    idempotencyKey: `${t.tenant.id}/${enrollmentId}/1`,
    body: {
      to_email: 'sam@lead.example',
      subject: 'Hi Sam',
      body: 'One for Samco',
      from_email: 'sdr@agency.example',
      message_id: `<${enrollmentId}.1.${t.tenant.id}@agency.example>`,
    },
  });
  expect((provider.messages[0]!.body.headers as Record<string, string>)['List-Unsubscribe']).toMatch(/^<https:\/\/api\.example\/api\/unsubscribe\/u_/);

  // Step 2: sent, then an attempt "dies mid-send" (the row is left sending) and is retried.
  expect(await send(2)).toEqual({ outcome: 'sent' });
  await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE messages SET status = 'sending' WHERE enrollment_id = $1 AND step = 2", [enrollmentId]));
  expect(await send(2)).toEqual({ outcome: 'sent' });
  expect(provider.messages.filter((m) => m.idempotencyKey.endsWith('/2'))).toHaveLength(1);
  // And once accepted, a retry does not call the provider at all.
  const calls = provider.calls['POST /messages'];
  expect(await send(2)).toEqual({ outcome: 'already_sent' });
  expect(provider.calls['POST /messages']).toBe(calls);
});
