// A send and its `message.sent` event commit together (docs/analytics.md,
// "Written with the fact"): when the event cannot be written, the send's
// record rolls back with it — the message is not accepted, the enrollment
// counts nothing — and the retry, once the event can be written, records the
// send and its event once. Through the real send activity and an idempotent
// provider (the Smartlead-style fake), which the retry asks again with the
// same key.
import { type Client } from 'pg';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring, seal } from '../lib/encryption';
import { providerKeyAad } from '../lib/secretScopes';
import { connect, createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startFakeSmartlead, type FakeSmartlead } from '../test/helpers/fakeSmartlead';
import { addLeads, createCampaign } from '../test/helpers/outreach';
import { createEnrollLeadActivities } from './enrollLead';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
let db: TestDatabase;
let ds: DataSource;
let owner: Client;
let provider: FakeSmartlead;
let t: TenantFixture;
let agent: Agent;

beforeAll(async () => {
  db = await createTestDatabase('send-event');
  ds = await openDataSource(db.appUrl);
  owner = await connect(db.ownerUrl);
  provider = await startFakeSmartlead();
  t = await createTenant(ds, { customers: 1 });
  const user = await createUser(ds);
  await addMember(ds, t, user, 'owner');
  agent = await signIn(testApp(ds, { keyring }), user.email);
});

afterAll(async () => {
  await provider?.stop();
  await owner?.end();
  await ds?.destroy();
  await db?.drop();
});

it('rolls the send back when its event cannot be written, and the retry records both once', async () => {
  const customerId = t.customers[0]!.id;
  const sealed = seal(keyring, provider.issueClientKey(7), providerKeyAad(t.tenant.id, customerId, 'smartlead'));
  await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "INSERT INTO provider_accounts (tenant_id, customer_id, provider, status, external_name, external_account_id, api_key_ciphertext, api_key_key_id) VALUES (current_setting('app.tenant_id')::uuid, $1, 'smartlead', 'active', 'x', '7', $2, $3)",
      [customerId, sealed.ciphertext, sealed.keyId],
    ),
  );
  const inbox = await agent
    .post('/api/inboxes')
    .set('X-Customer-Id', customerId)
    .send({ provider: 'smartlead', fromEmail: 'sdr@agency.example', fromName: 'SDR', dailyCap: 10 });
  expect(inbox.status).toBe(201);
  const campaign = await createCampaign(agent, customerId, { inboxIds: [inbox.body.id], steps: [{ subject: 'Hi', body: 'One', delayHours: 0 }] });
  await addLeads(agent, customerId, campaign, [{ email: 'eve@lead.example', firstName: 'Eve' }]);
  const [rows] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("UPDATE enrollments SET status = 'active', sequence_version = 1 WHERE campaign_id = $1 RETURNING id", [campaign]),
  )) as [{ id: string }[], number];
  const enrollmentId = rows[0]!.id;
  const activities = createEnrollLeadActivities({ dataSource: ds, keyring, smartlead: { baseUrl: provider.baseUrl, apiKey: provider.adminKey } });
  const send = () => activities.reserveAndSendStep({ tenantId: t.tenant.id, enrollmentId, step: 1, at: Date.now() });
  const state = () =>
    withTenant(ds, t.tenant.id, async (m) => {
      const [message] = (await m.query("SELECT id, status FROM messages WHERE enrollment_id = $1 AND direction = 'outbound'", [enrollmentId])) as {
        id: string;
        status: string;
      }[];
      const [enrollment] = (await m.query('SELECT sent FROM enrollments WHERE id = $1', [enrollmentId])) as { sent: number }[];
      const events = (await m.query("SELECT type, message_id FROM analytics_events WHERE enrollment_id = $1 AND type = 'message.sent'", [enrollmentId])) as {
        type: string;
        message_id: string;
      }[];
      return { message: message!, sent: enrollment!.sent, events };
    });

  // The obstacle: the database refuses this enrollment's message.sent, as a
  // full disk or a broken constraint would.
  await owner.query(`
    CREATE FUNCTION refuse_sent_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.type = 'message.sent' AND NEW.enrollment_id = '${enrollmentId}' THEN
        RAISE EXCEPTION 'analytics_events refuses this event';
      END IF;
      RETURN NEW;
    END $$`);
  await owner.query('CREATE TRIGGER refuse_sent_event BEFORE INSERT ON analytics_events FOR EACH ROW EXECUTE FUNCTION refuse_sent_event()');

  await expect(send()).rejects.toThrow(/refuses this event/);
  // The provider took the message, but its record rolled back with the event.
  expect(provider.messages).toHaveLength(1);
  const refused = await state();
  expect(refused).toEqual({ message: { id: expect.any(String), status: 'sending' }, sent: 0, events: [] });

  await owner.query('DROP TRIGGER refuse_sent_event ON analytics_events');
  await owner.query('DROP FUNCTION refuse_sent_event()');
  expect(await send()).toEqual({ outcome: 'sent' });
  expect(await send()).toEqual({ outcome: 'already_sent' });
  expect(provider.messages).toHaveLength(1);
  expect(await state()).toEqual({
    message: { id: refused.message.id, status: 'accepted' },
    sent: 1,
    events: [{ type: 'message.sent', message_id: refused.message.id }],
  });
});
