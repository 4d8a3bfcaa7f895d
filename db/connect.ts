// Client billing through Stripe Connect: the tenant's connected account (its
// id sealed at rest, its onboarding and payout state), the platform table that
// routes a Connect event to its tenant by a digest of the account id alone,
// and the client invoices a tenant bills its customers with. The tenant's
// statements run in its transaction (RLS); the route is read before any
// tenant is known (docs/security.md).
import { type EntityManager } from 'typeorm';
import { keysetPage, type ListParams, type Page } from './pagination';

export interface ConnectAccountRow {
  account_ciphertext: string;
  account_key_id: string;
  details_submitted: boolean;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  deauthorized_at: Date | null;
}

export interface ClientInvoiceLine {
  description: string;
  amountCents: number;
  quantity: number;
}

export interface ClientInvoiceRow {
  id: string;
  customer_id: string;
  currency: string;
  lines: ClientInvoiceLine[];
  amount_total: number;
  application_fee: number;
  status: string;
  checkout_url: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The tenant's connected account row, sealed id included. */
export async function getConnectAccount(m: EntityManager): Promise<ConnectAccountRow | undefined> {
  const [row] = (await m.query('SELECT * FROM connect_accounts')) as ConnectAccountRow[];
  return row;
}

/** Stores the account id sealed under the keyring's current key. */
export async function resealConnectAccount(m: EntityManager, sealed: { ciphertext: string; keyId: string }): Promise<void> {
  await m.query('UPDATE connect_accounts SET account_ciphertext = $1, account_key_id = $2, updated_at = now()', [sealed.ciphertext, sealed.keyId]);
}

/** Records the tenant's new connected account, its id sealed. */
export async function insertConnectAccount(m: EntityManager, sealed: { ciphertext: string; keyId: string }): Promise<void> {
  await m.query("INSERT INTO connect_accounts (tenant_id, account_ciphertext, account_key_id) VALUES (current_setting('app.tenant_id')::uuid, $1, $2)", [
    sealed.ciphertext,
    sealed.keyId,
  ]);
}

/** Routes the account's Connect events to the tenant, by the digest of the account id. */
export async function insertConnectAccountRoute(m: EntityManager, accountLookup: string, tenantId: string): Promise<void> {
  await m.query('INSERT INTO connect_account_routes (account_lookup, routed_tenant_id) VALUES ($1, $2)', [accountLookup, tenantId]);
}

/** The tenant a connected account belongs to, by the digest of its id. */
export async function connectAccountTenant(m: EntityManager, accountLookup: string): Promise<string | undefined> {
  const [route] = (await m.query('SELECT routed_tenant_id FROM connect_account_routes WHERE account_lookup = $1', [accountLookup])) as {
    routed_tenant_id: string;
  }[];
  return route?.routed_tenant_id;
}

/** The connected account's onboarding, payment and payout state. */
export async function connectAccountState(
  m: EntityManager,
): Promise<Pick<ConnectAccountRow, 'details_submitted' | 'charges_enabled' | 'payouts_enabled' | 'deauthorized_at'> | undefined> {
  const [row] = (await m.query('SELECT details_submitted, charges_enabled, payouts_enabled, deauthorized_at FROM connect_accounts')) as ConnectAccountRow[];
  return row;
}

/** What an `account.updated` event says of the account. */
export async function updateConnectAccountState(
  m: EntityManager,
  s: { detailsSubmitted: boolean; chargesEnabled: boolean; payoutsEnabled: boolean },
): Promise<void> {
  await m.query('UPDATE connect_accounts SET details_submitted = $1, charges_enabled = $2, payouts_enabled = $3, updated_at = now()', [
    s.detailsSubmitted,
    s.chargesEnabled,
    s.payoutsEnabled,
  ]);
}

/** The account was disconnected from the platform: it takes no more charges (the first instant is kept). */
export async function markConnectAccountDeauthorized(m: EntityManager): Promise<void> {
  await m.query('UPDATE connect_accounts SET deauthorized_at = coalesce(deauthorized_at, now()), charges_enabled = false, updated_at = now()');
}

export interface NewClientInvoice {
  id: string;
  customerId: string;
  currency: string;
  lines: ClientInvoiceLine[];
  total: number;
  applicationFee: number;
}

/** A draft invoice for the customer. */
export async function insertClientInvoice(m: EntityManager, inv: NewClientInvoice): Promise<ClientInvoiceRow> {
  const [row] = (await m.query(
    `INSERT INTO client_invoices (tenant_id, id, customer_id, currency, lines, amount_total, application_fee)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb, $5, $6) RETURNING *`,
    [inv.id, inv.customerId, inv.currency, JSON.stringify(inv.lines), inv.total, inv.applicationFee],
  )) as ClientInvoiceRow[];
  return row!;
}

/** The customer's invoices, newest first. */
export function listClientInvoices(m: EntityManager, customerId: string, list: ListParams): Promise<Page<ClientInvoiceRow>> {
  return keysetPage<ClientInvoiceRow>(m, list, {
    select: 'SELECT * FROM client_invoices',
    key: 'id',
    order: 'desc',
    where: [['customer_id = ?', customerId]],
    idOf: (r) => r.id,
  });
}

/** The customer's invoice, locked until the transaction ends (its checkout is being opened). */
export async function lockClientInvoice(m: EntityManager, id: string, customerId: string): Promise<ClientInvoiceRow | undefined> {
  const [inv] = (await m.query('SELECT * FROM client_invoices WHERE id = $1 AND customer_id = $2 FOR UPDATE', [id, customerId])) as ClientInvoiceRow[];
  return inv;
}

/** The invoice is open: its Checkout Session and where to pay it. */
export async function openClientInvoice(m: EntityManager, id: string, checkout: { sessionId: string; url: string | null }): Promise<ClientInvoiceRow> {
  // An UPDATE … RETURNING answers [rows, count].
  const [[row]] = (await m.query(
    "UPDATE client_invoices SET status = 'open', checkout_session_id = $2, checkout_url = $3, updated_at = now() WHERE id = $1 RETURNING *",
    [id, checkout.sessionId, checkout.url],
  )) as [ClientInvoiceRow[], number];
  return row!;
}

/** The customer's invoice's status and Checkout Session. */
export async function clientInvoiceCheckout(
  m: EntityManager,
  id: string,
  customerId: string,
): Promise<{ id: string; status: string; checkout_session_id: string | null } | undefined> {
  const [inv] = (await m.query('SELECT id, status, checkout_session_id FROM client_invoices WHERE id = $1 AND customer_id = $2', [id, customerId])) as {
    id: string;
    status: string;
    checkout_session_id: string | null;
  }[];
  return inv;
}

/** The invoice a Connect event is about: by the invoice id its metadata carries, else by its payment intent. */
export async function findClientInvoiceOfEvent(m: EntityManager, invoiceId: unknown, paymentIntent: string | null): Promise<{ id: string } | undefined> {
  const [inv] = (await m.query(
    typeof invoiceId === 'string' ? 'SELECT id FROM client_invoices WHERE id = $1' : 'SELECT id FROM client_invoices WHERE payment_intent_id = $1',
    [typeof invoiceId === 'string' ? invoiceId : paymentIntent],
  )) as { id: string }[];
  return inv;
}

/** Moves the invoice to `to` when it is in one of the `from` states; the first payment intent seen is kept. */
export async function moveClientInvoice(m: EntityManager, id: string, move: { to: string; from: string[] }, paymentIntent: string | null): Promise<void> {
  await m.query(
    'UPDATE client_invoices SET status = $2, payment_intent_id = coalesce(payment_intent_id, $3), updated_at = now() WHERE id = $1 AND status = ANY($4)',
    [id, move.to, paymentIntent, move.from],
  );
}
