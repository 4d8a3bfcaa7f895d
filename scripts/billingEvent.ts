// `npm run billing:event -- <type> --tenant <slug> [options]`: billing's local
// test mode, in the spirit of `stripe trigger`. Builds a Stripe-shaped event
// for the tenant's Stripe customer, signs it with the local webhook secret
// (written by `npm start` to .data/billing-local.json) and posts it to the
// running API's real webhook endpoint — the code path real Stripe takes.
//
//   subscription --plan starter|pro --status active|trialing|past_due|unpaid|canceled
//   subscription-deleted --plan starter|pro
//   invoice-paid | invoice-failed
//   credit-pack --pack sends_50|sends_1000
import 'reflect-metadata';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createDataSource } from '../db/dataSource';
import { tenantStripeCustomerBySlug } from '../db/tenants';
import { config } from '../lib/config';
import { CREDIT_PACKS, isPackKey, isPlanKey, LOCAL_PRICE_IDS } from '../lib/plans';
import { invoiceObject, packCheckoutObject, signedDelivery, stripeEvent, type SubscriptionEventInput, subscriptionObject } from '../lib/stripeTestEvents';
import { type LocalBilling, localBillingFile } from './lib/platform';

const USAGE =
  'usage: npm run billing:event -- subscription|subscription-deleted|invoice-paid|invoice-failed|credit-pack --tenant <slug> [--plan pro] [--status active] [--pack sends_50]';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      plan: { type: 'string', default: 'starter' },
      status: { type: 'string', default: 'active' },
      pack: { type: 'string', default: 'sends_50' },
    },
  });
  const type = positionals[0];
  if (!type || !values.tenant) throw new Error(USAGE);
  const c = config();
  const file = localBillingFile(c.TENANTFLOW_DATA_DIR);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm start\` without STRIPE_SECRET_KEY (billing's local test mode) first`);
  const local = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalBilling;
  const ds = createDataSource({ url: c.DATABASE_APP_URL ?? local.databaseAppUrl!, applicationName: 'tenantflow-billing-event', poolSize: 1 });
  await ds.initialize();
  const t = await tenantStripeCustomerBySlug(ds, values.tenant);
  await ds.destroy();
  if (!t) throw new Error(`no tenant with the slug ${values.tenant}`);
  if (!t.stripe_customer_id) throw new Error('the tenant has no Stripe customer yet (provisioning records one)');
  const customer = t.stripe_customer_id;
  const now = Date.now();
  const periodEnd = now + 30 * 86_400_000;
  const subscriptionId = `sub_local_${t.id.slice(-12)}`;
  const plan = values.plan;
  if (!isPlanKey(plan) || plan === 'free') throw new Error('--plan is starter or pro');
  const sub = (status: SubscriptionEventInput['status']) =>
    subscriptionObject({ customer, subscriptionId, status, plan, prices: LOCAL_PRICE_IDS, periodStart: now, periodEnd });
  const event = (() => {
    switch (type) {
      case 'subscription':
        return stripeEvent('customer.subscription.updated', sub(values.status as SubscriptionEventInput['status']));
      case 'subscription-deleted':
        return stripeEvent('customer.subscription.deleted', sub('canceled'));
      case 'invoice-paid':
        return stripeEvent('invoice.paid', invoiceObject({ customer, subscriptionId, periodStart: now, periodEnd, amount: 0, price: LOCAL_PRICE_IDS[plan] }));
      case 'invoice-failed':
        return stripeEvent('invoice.payment_failed', invoiceObject({ customer, subscriptionId, periodStart: now, periodEnd, amount: 0 }));
      case 'credit-pack': {
        if (!isPackKey(values.pack)) throw new Error('--pack is sends_50 or sends_1000');
        return stripeEvent(
          'checkout.session.completed',
          packCheckoutObject({ customer, tenantId: t.id, pack: values.pack, amount: CREDIT_PACKS[values.pack].cents }),
        );
      }
      default:
        throw new Error(USAGE);
    }
  })();
  const d = signedDelivery(event, local.webhookSecret);
  const res = await fetch(`${local.apiUrl ?? c.apiUrl}/api/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': d.signature },
    body: d.body,
  });
  console.log(`${event.type} ${event.id} → ${res.status} ${await res.text()}`);
  if (!res.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
