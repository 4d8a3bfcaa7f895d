// Inboxes of a customer: SMTP passwords are sealed and never returned;
// another customer's inbox is 404; a customer the tenant does not have is 400.
import { type DataSource } from 'typeorm';
import { generateKey, open, parseKeyring } from '../lib/encryption';
import { smtpPasswordAad } from '../lib/secretScopes';
import { withTenant } from '../db/tenantContext';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const suite = useSuiteDatabase('inboxes');
let ds: DataSource;
let a: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  [owner] = await signedInMembers(ds, testApp(ds, { keyring }), a, ['owner']);
});

const c = (i: number) => a.customers[i]!.id;
const smtpInbox = {
  provider: 'smtp',
  fromEmail: 'Sales@Agency.example',
  fromName: 'Sales',
  dailyCap: 40,
  smtp: { host: 'smtp.agency.example', port: 587, secure: false, user: 'sales', password: 'smtp-secret-pw' },
};

it('stores the SMTP password sealed, bound to its inbox, and never returns it', async () => {
  const res = await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send(smtpInbox);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    id: expect.stringMatching(/^inb_/),
    fromEmail: 'sales@agency.example',
    dailyCap: 40,
    smtp: { host: 'smtp.agency.example', passwordSet: true },
  });
  expect(JSON.stringify(res.body)).not.toContain('smtp-secret-pw');
  const list = await owner.get('/api/inboxes').set('X-Customer-Id', c(0));
  expect(JSON.stringify(list.body)).not.toContain('smtp-secret-pw');
  const [row] = await withTenant(ds, a.tenant.id, (m) =>
    m.query('SELECT smtp_password_ciphertext AS ct, smtp_password_key_id AS k FROM inboxes WHERE id = $1', [res.body.id]),
  );
  expect(row.ct).not.toContain('smtp-secret-pw');
  expect(open(keyring, { keyId: row.k, ciphertext: row.ct }, smtpPasswordAad(a.tenant.id, c(0), res.body.id))).toBe('smtp-secret-pw');
  // A duplicate address for the same customer is a conflict.
  expect((await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send(smtpInbox)).status).toBe(409);
});

it('changes cap and settings; keeps the password unless a new one is given', async () => {
  const id = (
    await owner
      .post('/api/inboxes')
      .set('X-Customer-Id', c(1))
      .send({ ...smtpInbox, fromEmail: 'ops@agency.example' })
  ).body.id;
  const patched = await owner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(1)).send({ dailyCap: 25, warmupEnabled: true });
  expect(patched.body).toMatchObject({ dailyCap: 25, warmupEnabled: true, smtp: { passwordSet: true } });
  expect((await owner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(0)).send({ dailyCap: 1 })).status).toBe(404);
  expect((await owner.get(`/api/inboxes/${id}`).set('X-Customer-Id', c(1))).body.dailyCap).toBe(25);
});

it('refuses bad input: smtp without settings, caps out of range, unknown customers', async () => {
  expect(
    (await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send({ provider: 'smtp', fromEmail: 'x@y.example', dailyCap: 10 })).body.error.details[0].path,
  ).toBe('smtp');
  expect(
    (
      await owner
        .post('/api/inboxes')
        .set('X-Customer-Id', c(0))
        .send({ ...smtpInbox, fromEmail: 'z@y.example', dailyCap: 0 })
    ).status,
  ).toBe(400);
  const ghost = await owner
    .post('/api/inboxes')
    .set('X-Customer-Id', 'cust_00000000000000000000000000')
    .send({ ...smtpInbox, fromEmail: 'g@y.example' });
  expect(ghost.body.error.code).toBe('invalid_customer_context');
});

it('refuses to store a secret without an encryption keyring (503), writing nothing', async () => {
  const [noKeys] = await signedInMembers(ds, testApp(ds), a, ['admin']);
  const res = await noKeys
    .post('/api/inboxes')
    .set('X-Customer-Id', c(0))
    .send({ ...smtpInbox, fromEmail: 'nokeys@agency.example' });
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('encryption_not_configured');
  const list = await owner.get('/api/inboxes?q=nokeys').set('X-Customer-Id', c(0));
  expect(list.body.data).toEqual([]);
});
