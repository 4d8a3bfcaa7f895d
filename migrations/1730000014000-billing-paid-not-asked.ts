// Entitlements follow what was paid (docs/security.md, "Billing: paid, not
// asked").
//
// 1. Every tenant has a row for every limit and feature: a feature's missing
//    row now reads as "off", so tenants that lack rows get those of the plan
//    they are entitled to (free when they have no billing account yet).
//    Existing rows are kept. The plans' values are written out here, as they
//    were when this migration was written, so it stays the same migration if
//    lib/plans.ts changes later.
// 2. A credit pack is granted once per Checkout Session, not once per Stripe
//    event: credit_grants records the session, unique per tenant. Grants
//    made before are given their session from the stored event; where one
//    session was already granted twice, the older grant keeps it (the balance
//    is left as it is).
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

const PLAN_ROWS = `
  (VALUES
    ('free', 'inboxes', true, 1), ('free', 'seats', true, 2), ('free', 'campaigns', true, 2), ('free', 'monthly_sends', true, 100),
    ('free', 'email_outreach', true, NULL), ('free', 'client_billing', false, NULL),
    ('starter', 'inboxes', true, 5), ('starter', 'seats', true, 5), ('starter', 'campaigns', true, 20), ('starter', 'monthly_sends', true, 2000),
    ('starter', 'email_outreach', true, NULL), ('starter', 'client_billing', true, NULL),
    ('pro', 'inboxes', true, 25), ('pro', 'seats', true, 25), ('pro', 'campaigns', true, 200), ('pro', 'monthly_sends', true, 20000),
    ('pro', 'email_outreach', true, NULL), ('pro', 'client_billing', true, NULL)
  ) AS p (plan, key, enabled, limit_value)`;

export class BillingPaidNotAsked1730000014000 implements MigrationInterface {
  name = 'BillingPaidNotAsked1730000014000';

  async up(q: QueryRunner): Promise<void> {
    await acrossTenants(q, ['entitlements', 'billing_accounts'], () =>
      q.query(`
        INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source)
        SELECT t.id, p.key, p.enabled, p.limit_value::int, 'plan:' || p.plan
        FROM tenants t
        LEFT JOIN billing_accounts b ON b.tenant_id = t.id
        JOIN ${PLAN_ROWS} ON p.plan = coalesce(b.entitled_plan, 'free')
        ON CONFLICT (tenant_id, key) DO NOTHING`),
    );

    await q.query('ALTER TABLE credit_grants ADD COLUMN checkout_session_id text CHECK (length(checkout_session_id) BETWEEN 1 AND 300)');
    await acrossTenants(q, ['credit_grants'], () =>
      q.query(`
        UPDATE credit_grants g SET checkout_session_id = s.session_id
        FROM (
          SELECT g2.tenant_id, g2.id, w.payload -> 'data' -> 'object' ->> 'id' AS session_id,
                 row_number() OVER (PARTITION BY g2.tenant_id, w.payload -> 'data' -> 'object' ->> 'id' ORDER BY g2.created_at, g2.id) AS n
          FROM credit_grants g2
          JOIN webhook_events w ON w.source = 'stripe' AND w.event_id = g2.event_id
        ) s
        WHERE g.tenant_id = s.tenant_id AND g.id = s.id AND s.n = 1 AND s.session_id IS NOT NULL`),
    );
    await q.query('CREATE UNIQUE INDEX credit_grants_session_key ON credit_grants (tenant_id, checkout_session_id) WHERE checkout_session_id IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX credit_grants_session_key');
    await q.query('ALTER TABLE credit_grants DROP COLUMN checkout_session_id');
  }
}
