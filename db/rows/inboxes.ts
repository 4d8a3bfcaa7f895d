// The inboxes table as typed SQL reads it (the outreach tables are kept with
// typed SQL, not entities: docs/architecture.md). One row type; each reader
// picks the columns it selects.

/** A whole inboxes row (migrations 1730000003000 and 1730000005000). */
export interface InboxRecord {
  tenant_id: string;
  id: string;
  customer_id: string;
  provider: 'smtp' | 'smartlead';
  external_id: string | null;
  from_email: string;
  from_name: string;
  daily_cap: number;
  warmup_enabled: boolean;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_secure: boolean | null;
  smtp_user: string | null;
  smtp_password_ciphertext: string | null;
  smtp_password_key_id: string | null;
  /** The inbox's own mailbox, read over IMAP (migration 1730000016200); all null without one. */
  imap_host: string | null;
  imap_port: number | null;
  imap_secure: boolean | null;
  imap_user: string | null;
  imap_password_ciphertext: string | null;
  imap_password_key_id: string | null;
  created_at: Date;
}

/** What the send path needs: the sender and how to reach its server. */
export type InboxSender = Pick<
  InboxRecord,
  | 'id'
  | 'customer_id'
  | 'provider'
  | 'from_email'
  | 'from_name'
  | 'smtp_host'
  | 'smtp_port'
  | 'smtp_secure'
  | 'smtp_user'
  | 'smtp_password_ciphertext'
  | 'smtp_password_key_id'
>;

/** What the API shows: everything but the sealed passwords, which it only says are set, and the mailbox reader's state. */
export type InboxListing = Omit<
  InboxRecord,
  'tenant_id' | 'smtp_password_ciphertext' | 'smtp_password_key_id' | 'imap_password_ciphertext' | 'imap_password_key_id'
> & {
  has_password: boolean;
  has_imap_password: boolean;
  mailbox_synced_at: Date | null;
  mailbox_stored: number | null;
  mailbox_error: string | null;
};

/** What the mailbox reader needs: whose inbox it is and how to log in to its mailbox. */
export type InboxMailbox = Pick<
  InboxRecord,
  | 'id'
  | 'customer_id'
  | 'provider'
  | 'from_email'
  | 'imap_host'
  | 'imap_port'
  | 'imap_secure'
  | 'imap_user'
  | 'imap_password_ciphertext'
  | 'imap_password_key_id'
>;
