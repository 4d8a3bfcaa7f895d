// Sender inboxes and the provider accounts they come from. An inbox belongs to
// one customer: an SMTP server the customer set up (its password sealed, see
// services/outreach/inboxes.ts), or a mailbox synced from the customer's
// provider account (provider_accounts: recorded before the provider is called,
// so a retry finds the account a crashed attempt made). Row types are in
// db/rows/inboxes.ts, which the send path reads too.
import { type EntityManager } from 'typeorm';
import { newId } from './ids';
import { keysetPage, type ListParams, type Page } from './pagination';
import { type InboxListing, type InboxMailbox, type InboxSender } from './rows/inboxes';

export type { InboxListing, InboxMailbox, InboxRecord, InboxSender } from './rows/inboxes';

/** An inbox as the API shows it: the passwords only as "set", with its mailbox reader's state. */
const SELECT_LISTING = `SELECT * FROM (SELECT i.id, i.customer_id, i.provider, i.external_id, i.from_email, i.from_name, i.daily_cap, i.warmup_enabled,
  i.smtp_host, i.smtp_port, i.smtp_secure, i.smtp_user, i.smtp_password_ciphertext IS NOT NULL AS has_password,
  i.imap_host, i.imap_port, i.imap_secure, i.imap_user, i.imap_password_ciphertext IS NOT NULL AS has_imap_password,
  mb.synced_at AS mailbox_synced_at, mb.stored AS mailbox_stored, mb.error AS mailbox_error, i.created_at
  FROM inboxes i LEFT JOIN inbox_mailboxes mb ON mb.tenant_id = i.tenant_id AND mb.inbox_id = i.id) inboxes`;

export async function findInbox(m: EntityManager, customerId: string, id: string): Promise<InboxListing | undefined> {
  const [row] = (await m.query(`${SELECT_LISTING} WHERE id = $1 AND customer_id = $2`, [id, customerId])) as InboxListing[];
  return row;
}

export async function listInboxesPage(m: EntityManager, customerId: string, list: ListParams): Promise<Page<InboxListing>> {
  return keysetPage<InboxListing>(m, list, {
    select: SELECT_LISTING,
    key: 'id',
    where: [['customer_id = ?', customerId]],
    search: ['from_email', 'from_name'],
    idOf: (r) => r.id,
  });
}

/** Which of these ids are the customer's inboxes. */
export async function findCustomerInboxIds(m: EntityManager, customerId: string, ids: string[]): Promise<string[]> {
  const found = (await m.query('SELECT id FROM inboxes WHERE id = ANY($1) AND customer_id = $2', [ids, customerId])) as { id: string }[];
  return found.map((f) => f.id);
}

export interface NewInbox {
  id: string;
  customerId: string;
  provider: string;
  fromEmail: string;
  fromName: string;
  dailyCap: number;
  warmupEnabled: boolean;
  smtp?: { host: string; port: number; secure: boolean; user?: string };
  sealedPassword?: { ciphertext: string; keyId: string };
}

/** Inserts an inbox; a second inbox of the customer for one address fails with 23505 (unique violation). */
export async function insertInbox(m: EntityManager, inbox: NewInbox): Promise<void> {
  const smtp = inbox.smtp;
  const sealed = inbox.sealedPassword;
  await m.query(
    `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, from_name, daily_cap, warmup_enabled,
                          smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password_ciphertext, smtp_password_key_id)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      inbox.id,
      inbox.customerId,
      inbox.provider,
      inbox.fromEmail,
      inbox.fromName,
      inbox.dailyCap,
      inbox.warmupEnabled,
      smtp?.host ?? null,
      smtp?.port ?? null,
      smtp?.secure ?? null,
      smtp?.user ?? null,
      sealed?.ciphertext ?? null,
      sealed?.keyId ?? null,
    ],
  );
}

/** Every setting an update may change; a password left out (no sealed one) keeps the stored one unless `dropPassword`. */
export interface InboxSettings {
  fromName: string;
  dailyCap: number;
  warmupEnabled: boolean;
  smtpHost: string | null;
  smtpPort: number | null;
  smtpSecure: boolean | null;
  smtpUser: string | null;
  sealedPassword?: { ciphertext: string; keyId: string };
  /** Forget the stored password (the settings name another server or user, and no new password came). */
  dropPassword?: boolean;
}

export async function updateInbox(m: EntityManager, id: string, s: InboxSettings): Promise<void> {
  await m.query(
    `UPDATE inboxes SET from_name = $2, daily_cap = $3, warmup_enabled = $4, smtp_host = $5, smtp_port = $6, smtp_secure = $7, smtp_user = $8,
            smtp_password_ciphertext = CASE WHEN $11 THEN $9 ELSE coalesce($9, smtp_password_ciphertext) END,
            smtp_password_key_id = CASE WHEN $11 THEN $10 ELSE coalesce($10, smtp_password_key_id) END, updated_at = now()
      WHERE id = $1`,
    [
      id,
      s.fromName,
      s.dailyCap,
      s.warmupEnabled,
      s.smtpHost,
      s.smtpPort,
      s.smtpSecure,
      s.smtpUser,
      s.sealedPassword?.ciphertext ?? null,
      s.sealedPassword?.keyId ?? null,
      s.dropPassword === true,
    ],
  );
}

/** An inbox's IMAP settings; null clears them. A password left out (no sealed one) keeps the stored one. */
export interface ImapColumns {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  sealedPassword?: { ciphertext: string; keyId: string };
}

export async function setInboxImap(m: EntityManager, id: string, imap: ImapColumns | null): Promise<void> {
  if (!imap) {
    await m.query(
      `UPDATE inboxes SET imap_host = NULL, imap_port = NULL, imap_secure = NULL, imap_user = NULL,
              imap_password_ciphertext = NULL, imap_password_key_id = NULL, updated_at = now() WHERE id = $1`,
      [id],
    );
    return;
  }
  await m.query(
    `UPDATE inboxes SET imap_host = $2, imap_port = $3, imap_secure = $4, imap_user = $5,
            imap_password_ciphertext = coalesce($6, imap_password_ciphertext), imap_password_key_id = coalesce($7, imap_password_key_id), updated_at = now()
      WHERE id = $1`,
    [id, imap.host, imap.port, imap.secure, imap.user, imap.sealedPassword?.ciphertext ?? null, imap.sealedPassword?.keyId ?? null],
  );
}

/** The inbox the mailbox reader logs in to (every IMAP column: the reader opens the password itself). */
export async function readInboxMailbox(m: EntityManager, inboxId: string): Promise<InboxMailbox | undefined> {
  const [inbox] = (await m.query(
    `SELECT id, customer_id, provider, from_email, imap_host, imap_port, imap_secure, imap_user, imap_password_ciphertext, imap_password_key_id
       FROM inboxes WHERE id = $1`,
    [inboxId],
  )) as InboxMailbox[];
  return inbox;
}

/**
 * The mailbox the inbox's settings name now (host, port, user), its row
 * share-locked until the transaction ends: a batch the reader stores under
 * it cannot commit beside a settings change that names another mailbox.
 */
export async function lockInboxMailbox(
  m: EntityManager,
  inboxId: string,
): Promise<{ imap_host: string | null; imap_port: number | null; imap_user: string | null } | undefined> {
  const [inbox] = (await m.query('SELECT imap_host, imap_port, imap_user FROM inboxes WHERE id = $1 FOR SHARE', [inboxId])) as {
    imap_host: string | null;
    imap_port: number | null;
    imap_user: string | null;
  }[];
  return inbox;
}

export async function deleteInbox(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM inboxes WHERE id = $1', [id]);
}

/** The e-mail providers a customer's account is provisioned with. */
export type OutreachProvider = 'smartlead';

export interface ProviderAccountRow {
  status: string;
  external_name: string;
  external_account_id: string | null;
  api_key_ciphertext: string | null;
  api_key_key_id: string | null;
}

export async function findProviderAccount(m: EntityManager, customerId: string, provider: OutreachProvider): Promise<ProviderAccountRow | undefined> {
  return (
    (await m.query(
      'SELECT status, external_name, external_account_id, api_key_ciphertext, api_key_key_id FROM provider_accounts WHERE customer_id = $1 AND provider = $2',
      [customerId, provider],
    )) as ProviderAccountRow[]
  )[0];
}

/** Records the account before the provider is called (a row that exists is kept as it is). */
export async function insertProviderAccount(m: EntityManager, customerId: string, provider: OutreachProvider, externalName: string): Promise<void> {
  await m.query(
    `INSERT INTO provider_accounts (tenant_id, customer_id, provider, status, external_name)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'provisioning', $3) ON CONFLICT DO NOTHING`,
    [customerId, provider, externalName],
  );
}

/** `sets` numbers its parameters from $2 ($1 is the customer). */
async function updateProviderAccount(m: EntityManager, customerId: string, provider: OutreachProvider, sets: string, params: unknown[]): Promise<void> {
  await m.query(`UPDATE provider_accounts SET ${sets}, updated_at = now() WHERE customer_id = $1 AND provider = '${provider}'`, [customerId, ...params]);
}

export async function setProviderAccountExternalId(m: EntityManager, customerId: string, provider: OutreachProvider, externalAccountId: string): Promise<void> {
  await updateProviderAccount(m, customerId, provider, 'external_account_id = $2', [externalAccountId]);
}

export async function setProviderAccountApiKey(
  m: EntityManager,
  customerId: string,
  provider: OutreachProvider,
  sealed: { ciphertext: string; keyId: string },
): Promise<void> {
  await updateProviderAccount(m, customerId, provider, 'api_key_ciphertext = $2, api_key_key_id = $3', [sealed.ciphertext, sealed.keyId]);
}

export async function setProviderAccountFailed(m: EntityManager, customerId: string, provider: OutreachProvider, error: string): Promise<void> {
  await updateProviderAccount(m, customerId, provider, "status = 'failed', error = $2", [error]);
}

export async function markProviderAccountSynced(m: EntityManager, customerId: string, provider: OutreachProvider): Promise<void> {
  await m.query(
    "UPDATE provider_accounts SET status = 'active', error = NULL, last_synced_at = now(), updated_at = now() WHERE customer_id = $1 AND provider = $2",
    [customerId, provider],
  );
}

/** The provider's ids of the customer's inboxes from that provider. */
export async function providerInboxIds(m: EntityManager, customerId: string, provider: OutreachProvider): Promise<string[]> {
  const rows = (await m.query('SELECT external_id FROM inboxes WHERE customer_id = $1 AND provider = $2', [customerId, provider])) as { external_id: string }[];
  return rows.map((r) => r.external_id);
}

/** Adds a provider's inbox or updates the one known by its provider id; answers whether it was added. */
export async function upsertProviderInbox(
  m: EntityManager,
  customerId: string,
  provider: OutreachProvider,
  inbox: { externalId: string; fromEmail: string; fromName: string; dailyCap: number; warmup: boolean },
): Promise<boolean> {
  const res = (await m.query(
    `INSERT INTO inboxes (tenant_id, id, customer_id, provider, external_id, from_email, from_name, daily_cap, warmup_enabled)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, customer_id, provider, external_id)
     DO UPDATE SET from_email = EXCLUDED.from_email, from_name = EXCLUDED.from_name, daily_cap = EXCLUDED.daily_cap,
                   warmup_enabled = EXCLUDED.warmup_enabled, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [newId('inb'), customerId, provider, inbox.externalId, inbox.fromEmail, inbox.fromName, inbox.dailyCap, inbox.warmup],
  )) as { inserted: boolean }[];
  return res[0]?.inserted ?? false;
}

/** How many inboxes the tenant has (its plan's inbox limit counts them). */
export async function countInboxes(m: EntityManager): Promise<number> {
  const [c] = (await m.query('SELECT count(*)::int AS n FROM inboxes')) as { n: number }[];
  return Number(c!.n);
}

/** A customer's provider account with the count of its inboxes. */
export interface ProviderAccountStatusRow {
  provider: string;
  status: string;
  external_account_id: string | null;
  api_key_key_id: string | null;
  last_synced_at: Date | null;
  error: string | null;
  inboxes: number;
}

export async function providerAccountsOfCustomer(m: EntityManager, customerId: string): Promise<ProviderAccountStatusRow[]> {
  return (await m.query(
    `SELECT a.provider, a.status, a.external_account_id, a.api_key_key_id, a.last_synced_at, a.error,
                (SELECT count(*)::int FROM inboxes i WHERE i.customer_id = a.customer_id AND i.provider = a.provider) AS inboxes
           FROM provider_accounts a WHERE a.customer_id = $1`,
    [customerId],
  )) as ProviderAccountStatusRow[];
}

/** The inbox a step is sent from (every column: the send picks what it needs). */
export async function readInboxSender(m: EntityManager, inboxId: string | null): Promise<InboxSender | undefined> {
  const [inbox] = (await m.query('SELECT * FROM inboxes WHERE id = $1', [inboxId])) as InboxSender[];
  return inbox;
}

/** The customer's active Smartlead account's sealed API key. */
export async function readSmartleadKey(
  m: EntityManager,
  customerId: string,
): Promise<{ api_key_ciphertext: string | null; api_key_key_id: string | null } | undefined> {
  const [account] = (await m.query(
    "SELECT api_key_ciphertext, api_key_key_id FROM provider_accounts WHERE customer_id = $1 AND provider = 'smartlead' AND status = 'active'",
    [customerId],
  )) as {
    api_key_ciphertext: string | null;
    api_key_key_id: string | null;
  }[];
  return account;
}
