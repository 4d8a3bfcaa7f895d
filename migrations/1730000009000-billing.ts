// Billing: one billing account per tenant (the state the billing workflow
// applied, the send usage of the period and the credit balance), credit grants
// unique per Stripe event, the quota wait of an enrollment, which allowance
// paid for each send slot, dunning reminders sent, the tenant's Stripe Connect
// account (its id sealed) and client invoices.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants, enableTenantRls } from './lib/rls';

export class Billing1730000009000 implements MigrationInterface {
  name = 'Billing1730000009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing_accounts (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'starter', 'pro')),
        status text NOT NULL DEFAULT 'none' CHECK (status IN ('none', 'trialing', 'active', 'past_due', 'unpaid', 'canceled')),
        entitled_plan text NOT NULL DEFAULT 'free' CHECK (entitled_plan IN ('free', 'starter', 'pro')),
        restricted boolean NOT NULL DEFAULT false,
        trial_ends_at timestamptz,
        period_start timestamptz,
        period_end timestamptz,
        paid_through timestamptz,
        past_due_since timestamptz,
        stripe_subscription_id text,
        credit_balance integer NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
        usage_period_start timestamptz,
        period_sends integer NOT NULL DEFAULT 0 CHECK (period_sends >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(q, 'billing_accounts');
    // The platform view's copy of each tenant's plan and status (tenants is a platform table).
    await q.query("ALTER TABLE tenants ADD COLUMN billing_plan text NOT NULL DEFAULT 'free', ADD COLUMN billing_status text NOT NULL DEFAULT 'none'");
    // Every tenant has an account; existing ones start on the free plan.
    await acrossTenants(q, ['billing_accounts'], () => q.query('INSERT INTO billing_accounts (tenant_id) SELECT id FROM tenants ON CONFLICT DO NOTHING'));

    await q.query(`
      CREATE TABLE credit_grants (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^cred_[0-9a-z]{26}$'),
        event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 300),
        pack text NOT NULL,
        sends integer NOT NULL CHECK (sends > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, event_id)
      )`);
    await enableTenantRls(q, 'credit_grants');

    await q.query(`
      CREATE TABLE billing_reminders (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        past_due_since timestamptz NOT NULL,
        day integer NOT NULL CHECK (day BETWEEN 1 AND 365),
        sent_to text NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, past_due_since, day)
      )`);
    await enableTenantRls(q, 'billing_reminders');

    // 'quota' or 'restricted' while an enrollment waits for sends to be released.
    await q.query("ALTER TABLE enrollments ADD COLUMN waiting_for text CHECK (waiting_for IN ('quota', 'restricted'))");
    await q.query('CREATE INDEX enrollments_waiting_idx ON enrollments (tenant_id) WHERE waiting_for IS NOT NULL');
    await q.query("ALTER TABLE inbox_send_slots ADD COLUMN paid_by text NOT NULL DEFAULT 'plan' CHECK (paid_by IN ('plan', 'credit', 'unmetered'))");

    await q.query(`
      CREATE TABLE connect_accounts (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        account_ciphertext text NOT NULL,
        account_key_id text NOT NULL,
        details_submitted boolean NOT NULL DEFAULT false,
        charges_enabled boolean NOT NULL DEFAULT false,
        payouts_enabled boolean NOT NULL DEFAULT false,
        deauthorized_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRls(q, 'connect_accounts');
    // The Connect webhook learns its tenant from the account id alone: a keyed
    // digest of the id, in a platform table (like tenants.stripe_customer_id).
    await q.query(`
      CREATE TABLE connect_account_routes (
        account_lookup text PRIMARY KEY,
        routed_tenant_id uuid NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE client_invoices (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^cinv_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
        lines jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array' AND jsonb_array_length(lines) BETWEEN 1 AND 100),
        amount_total integer NOT NULL CHECK (amount_total > 0),
        application_fee integer NOT NULL CHECK (application_fee >= 0),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'paid', 'failed', 'refunded')),
        checkout_session_id text,
        checkout_url text,
        payment_intent_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE RESTRICT
      )`);
    await q.query('CREATE INDEX client_invoices_customer_idx ON client_invoices (tenant_id, customer_id, id)');
    await enableTenantRls(q, 'client_invoices');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants DROP COLUMN billing_plan, DROP COLUMN billing_status');
    await q.query('DROP TABLE client_invoices');
    await q.query('DROP TABLE connect_account_routes');
    await q.query('DROP TABLE connect_accounts');
    await q.query('ALTER TABLE inbox_send_slots DROP COLUMN paid_by');
    await q.query('ALTER TABLE enrollments DROP COLUMN waiting_for');
    for (const t of ['billing_reminders', 'credit_grants', 'billing_accounts']) await q.query(`DROP TABLE ${t}`);
  }
}
