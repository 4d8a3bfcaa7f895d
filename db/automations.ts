// Automations and their versions (docs/automations.md, "Definitions and
// versions"). A version is written once and never updated, except for the
// moment it is published; the automation points at its live version. The
// webhook secret is stored sealed (services/automations/definitions.ts).
import { type EntityManager } from 'typeorm';
import { type Sealed } from '../lib/encryption';
import { keysetPage, type ListParams, type Page } from './pagination';

export interface AutomationRow {
  id: string;
  customer_id: string | null;
  name: string;
  enabled: boolean;
  live_version: number | null;
  /** The newest version's number (a draft when above `live_version`). */
  latest_version: number;
  /** The live version's trigger type, or the newest version's when none is live. */
  trigger_type: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface VersionRow {
  version: number;
  definition: Record<string, unknown>;
  created_by: string | null;
  created_at: Date;
  published_at: Date | null;
  published_by: string | null;
}

const VERSION_COLUMNS = 'version, definition, created_by, created_at, published_at, published_by';

const SELECT_AUTOMATION = `SELECT * FROM (SELECT a.id, a.customer_id, a.name, a.enabled, a.live_version, a.created_by, a.created_at, a.updated_at,
    (SELECT max(v.version) FROM automation_versions v WHERE v.tenant_id = a.tenant_id AND v.automation_id = a.id)::int AS latest_version,
    (SELECT v.definition->'trigger'->>'type' FROM automation_versions v
      WHERE v.tenant_id = a.tenant_id AND v.automation_id = a.id ORDER BY (v.version = a.live_version) DESC NULLS LAST, v.version DESC LIMIT 1) AS trigger_type
  FROM automations a) automations`;

export async function findAutomation(m: EntityManager, id: string): Promise<AutomationRow | undefined> {
  const [row] = (await m.query(`${SELECT_AUTOMATION} WHERE id = $1`, [id])) as AutomationRow[];
  return row;
}

/** Locks the automation's row for a change (publishing, a new version): concurrent changes of one automation queue. */
export async function lockAutomation(m: EntityManager, id: string): Promise<boolean> {
  const rows = (await m.query('SELECT id FROM automations WHERE id = $1 FOR UPDATE', [id])) as unknown[];
  return rows.length > 0;
}

/** The tenant's automations, oldest first; `customerId` set: only that customer's (a restricted member's view). */
export function listAutomationsPage(m: EntityManager, list: ListParams, customerId: string | undefined): Promise<Page<AutomationRow>> {
  return keysetPage<AutomationRow>(m, list, {
    select: SELECT_AUTOMATION,
    key: 'id',
    where: [['customer_id = ?', customerId]],
    search: ['name'],
    idOf: (r) => r.id,
  });
}

export interface NewAutomation {
  id: string;
  customerId: string | null;
  name: string;
  webhookSecret: Sealed;
  createdBy: string | null;
  definition: unknown;
}

/** Inserts the automation and its version 1 (a draft: nothing live, disabled). */
export async function insertAutomation(m: EntityManager, a: NewAutomation): Promise<void> {
  await m.query(
    `INSERT INTO automations (tenant_id, id, customer_id, name, webhook_secret, created_by)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb, $5)`,
    [a.id, a.customerId, a.name, JSON.stringify(a.webhookSecret), a.createdBy],
  );
  await insertVersion(m, a.id, 1, a.definition, a.createdBy);
}

async function insertVersion(m: EntityManager, automationId: string, version: number, definition: unknown, createdBy: string | null): Promise<void> {
  await m.query(
    `INSERT INTO automation_versions (tenant_id, automation_id, version, definition, created_by)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3::jsonb, $4)`,
    [automationId, version, JSON.stringify(definition), createdBy],
  );
}

/** Adds the next version (max + 1) of a locked automation; answers its number. */
export async function appendVersion(m: EntityManager, automationId: string, definition: unknown, createdBy: string | null): Promise<number> {
  const [row] = (await m.query('SELECT coalesce(max(version), 0)::int + 1 AS next FROM automation_versions WHERE automation_id = $1', [automationId])) as {
    next: number;
  }[];
  await insertVersion(m, automationId, row!.next, definition, createdBy);
  await m.query('UPDATE automations SET updated_at = now() WHERE id = $1', [automationId]);
  return row!.next;
}

export async function listVersions(m: EntityManager, automationId: string): Promise<VersionRow[]> {
  return (await m.query(`SELECT ${VERSION_COLUMNS} FROM automation_versions WHERE automation_id = $1 ORDER BY version DESC`, [automationId])) as VersionRow[];
}

export async function findVersion(m: EntityManager, automationId: string, version: number): Promise<VersionRow | undefined> {
  const [row] = (await m.query(`SELECT ${VERSION_COLUMNS} FROM automation_versions WHERE automation_id = $1 AND version = $2`, [
    automationId,
    version,
  ])) as VersionRow[];
  return row;
}

/** Makes a version live; its first publication is the one recorded (publishing it again keeps when and by whom). */
export async function publishVersion(m: EntityManager, automationId: string, version: number, publishedBy: string | null): Promise<void> {
  await m.query(
    `UPDATE automation_versions SET published_at = coalesce(published_at, now()), published_by = CASE WHEN published_at IS NULL THEN $3 ELSE published_by END
      WHERE automation_id = $1 AND version = $2`,
    [automationId, version, publishedBy],
  );
  await m.query('UPDATE automations SET live_version = $2, updated_at = now() WHERE id = $1', [automationId, version]);
}

export async function renameAutomation(m: EntityManager, id: string, name: string): Promise<void> {
  await m.query('UPDATE automations SET name = $2, updated_at = now() WHERE id = $1', [id, name]);
}

export async function setAutomationEnabled(m: EntityManager, id: string, enabled: boolean): Promise<void> {
  await m.query('UPDATE automations SET enabled = $2, updated_at = now() WHERE id = $1', [id, enabled]);
}

export async function setWebhookSecret(m: EntityManager, id: string, secret: Sealed): Promise<void> {
  await m.query('UPDATE automations SET webhook_secret = $2::jsonb, updated_at = now() WHERE id = $1', [id, JSON.stringify(secret)]);
}

/** The sealed webhook secret (the inbound webhook and `webhook_call` open it). */
export async function readWebhookSecret(m: EntityManager, id: string): Promise<{ customer_id: string | null; webhook_secret: Sealed } | undefined> {
  const [row] = (await m.query('SELECT customer_id, webhook_secret FROM automations WHERE id = $1', [id])) as {
    customer_id: string | null;
    webhook_secret: Sealed;
  }[];
  return row;
}

/** Deletes the automation; its versions and runs go with it (ON DELETE CASCADE). */
export async function deleteAutomation(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM automations WHERE id = $1', [id]);
}
