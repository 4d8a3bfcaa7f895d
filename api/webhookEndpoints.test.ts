// GET /api/webhooks/endpoints: what a tenant configures at its e-mail
// provider (the URL and how deliveries are signed), for members who manage
// API tokens; the signing secrets are the operator's and never in the answer.
import { signIn, testApp } from '../test/helpers/api';
import { addMember, createTenant, createUser } from '../test/helpers/fixtures';
import { useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('webhook-endpoints');
const SECRETS = { smartlead: 'smartlead-secret-0123456789', smtp: 'smtp-secret-0123456789' };

it('names each configured provider’s URL and signature scheme, never a secret; a member without tokens.manage is refused', async () => {
  const app = testApp(suite.ds, { emailWebhookSecrets: SECRETS });
  const t = await createTenant(suite.ds);
  const owner = await createUser(suite.ds);
  const viewer = await createUser(suite.ds);
  await addMember(suite.ds, t, owner, 'owner');
  await addMember(suite.ds, t, viewer, 'viewer');

  const res = await (await signIn(app, owner.email)).get('/api/webhooks/endpoints');
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual([
    expect.objectContaining({ provider: 'smartlead', method: 'POST', path: '/api/webhooks/email/smartlead', signatureHeader: 'x-tenantflow-signature' }),
    expect.objectContaining({ provider: 'smtp', path: '/api/webhooks/email/smtp', algorithm: 'HMAC-SHA256', toleranceSeconds: 300 }),
  ]);
  for (const secret of Object.values(SECRETS)) expect(JSON.stringify(res.body)).not.toContain(secret);

  expect((await (await signIn(app, viewer.email)).get('/api/webhooks/endpoints')).status).toBe(403);
  expect((await (await signIn(testApp(suite.ds), owner.email)).get('/api/webhooks/endpoints')).body).toEqual({ data: [] });
});

it('filters the audit log by a dotted action (billing.checkout_started)', async () => {
  const app = testApp(suite.ds);
  const t = await createTenant(suite.ds);
  const owner = await createUser(suite.ds);
  await addMember(suite.ds, t, owner, 'owner');
  const agent = await signIn(app, owner.email);
  const res = await agent.get('/api/audit?action=billing.checkout_started');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ data: [], nextCursor: null });
  expect((await agent.get('/api/audit?action=Billing!')).status).toBe(400);
});
