// Campaigns: a customer's campaign row (status, send schedule, current
// sequence version), the inboxes it sends from (campaign_inboxes) and its
// immutable, versioned sequence snapshots (campaign_sequences). Enrollments
// keep the version they started with, so a snapshot is never changed.
import { type EntityManager } from 'typeorm';
import { keysetPage, type ListParams, type Page } from './pagination';

export interface CampaignRow {
  id: string;
  customer_id: string;
  name: string;
  status: string;
  timezone: string;
  days: number[];
  window_start: string;
  window_end: string;
  sequence_version: number | null;
  started_at: Date | null;
  created_at: Date;
  updated_at: Date;
  tracking: boolean;
}

export interface SequenceSnapshotRow {
  version: number;
  source_sequence_id: string | null;
  steps: unknown[];
  created_at: Date;
}

const CAMPAIGN_COLUMNS =
  'id, customer_id, name, status, timezone, days, window_start, window_end, sequence_version, started_at, created_at, updated_at, tracking';

/** The customer's campaign, or undefined; `lock` takes it FOR UPDATE (a status or sequence change, adding leads). */
export async function findCampaign(m: EntityManager, customerId: string, id: string, lock = false): Promise<CampaignRow | undefined> {
  const [row] = (await m.query(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 AND customer_id = $2${lock ? ' FOR UPDATE' : ''}`, [
    id,
    customerId,
  ])) as CampaignRow[];
  return row;
}

/** One page of the customer's campaigns, optionally of one status. */
export async function listCampaignsPage(m: EntityManager, customerId: string, list: ListParams & { status?: string }): Promise<Page<CampaignRow>> {
  return keysetPage<CampaignRow>(m, list, {
    select: `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns`,
    key: 'id',
    where: [
      ['customer_id = ?', customerId],
      ['status = ?', list.status],
    ],
    search: ['name'],
    sorts: { name: 'lower(name)', status: 'status' },
    idOf: (r) => r.id,
  });
}

/** A draft campaign with the inboxes it sends from. */
export async function insertCampaign(
  m: EntityManager,
  c: { id: string; customerId: string; name: string; timezone: string; days: number[]; start: string; end: string; inboxIds: string[]; tracking?: boolean },
): Promise<void> {
  await m.query(
    `INSERT INTO campaigns (tenant_id, id, customer_id, name, timezone, days, window_start, window_end, tracking)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.id, c.customerId, c.name, c.timezone, c.days, c.start, c.end, c.tracking ?? false],
  );
  await m.query("INSERT INTO campaign_inboxes (tenant_id, campaign_id, inbox_id) SELECT current_setting('app.tenant_id')::uuid, $1, unnest($2::text[])", [
    c.id,
    c.inboxIds,
  ]);
}

/** Starts or resumes a campaign; `started_at` keeps its first start. */
export async function activateCampaign(m: EntityManager, id: string): Promise<void> {
  await m.query("UPDATE campaigns SET status = 'active', started_at = coalesce(started_at, now()), updated_at = now() WHERE id = $1", [id]);
}

export async function setCampaignStatus(m: EntityManager, id: string, status: string): Promise<void> {
  await m.query('UPDATE campaigns SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

/** A completed campaign that takes new leads runs again. */
export async function reopenCampaign(m: EntityManager, id: string): Promise<void> {
  await m.query("UPDATE campaigns SET status = 'active', updated_at = now() WHERE id = $1", [id]);
}

export async function listCampaignInboxIds(m: EntityManager, campaignId: string): Promise<string[]> {
  const inboxes = (await m.query('SELECT inbox_id FROM campaign_inboxes WHERE campaign_id = $1 ORDER BY inbox_id', [campaignId])) as { inbox_id: string }[];
  return inboxes.map((i) => i.inbox_id);
}

/** The names of up to three campaigns, not archived, that send from the inbox. */
export async function campaignsSendingFrom(m: EntityManager, inboxId: string): Promise<string[]> {
  const inUse = (await m.query(
    "SELECT c.name FROM campaign_inboxes ci JOIN campaigns c ON c.id = ci.campaign_id WHERE ci.inbox_id = $1 AND c.status <> 'archived' LIMIT 3",
    [inboxId],
  )) as { name: string }[];
  return inUse.map((c) => c.name);
}

/** Takes the inbox out of every campaign (archived ones keep their history without it). */
export async function removeInboxFromCampaigns(m: EntityManager, inboxId: string): Promise<void> {
  await m.query('DELETE FROM campaign_inboxes WHERE inbox_id = $1', [inboxId]);
}

export async function listSequenceVersions(m: EntityManager, campaignId: string): Promise<number[]> {
  const versions = (await m.query('SELECT version FROM campaign_sequences WHERE campaign_id = $1 ORDER BY version', [campaignId])) as { version: number }[];
  return versions.map((v) => v.version);
}

export async function findSequenceSnapshot(m: EntityManager, campaignId: string, version: number): Promise<SequenceSnapshotRow | undefined> {
  const [snap] = (await m.query('SELECT version, source_sequence_id, steps, created_at FROM campaign_sequences WHERE campaign_id = $1 AND version = $2', [
    campaignId,
    version,
  ])) as SequenceSnapshotRow[];
  return snap;
}

/** How many steps a version of the campaign's sequence has (undefined when there is no such version). */
export async function sequenceSnapshotLength(m: EntityManager, campaignId: string, version: number): Promise<number | undefined> {
  const [snap] = (await m.query('SELECT jsonb_array_length(steps) AS n FROM campaign_sequences WHERE campaign_id = $1 AND version = $2', [
    campaignId,
    version,
  ])) as { n: number }[];
  return snap?.n;
}

/**
 * Records the next version of the campaign's sequence and makes it current.
 * The caller holds the campaign's row FOR UPDATE, so two takes never pick the
 * same number.
 */
export async function insertSequenceSnapshot(m: EntityManager, campaignId: string, source: string | null, steps: unknown[]): Promise<number> {
  const [{ version }] = (await m.query('SELECT coalesce(max(version), 0) + 1 AS version FROM campaign_sequences WHERE campaign_id = $1', [campaignId])) as [
    { version: number },
  ];
  await m.query(
    "INSERT INTO campaign_sequences (tenant_id, campaign_id, version, source_sequence_id, steps) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb)",
    [campaignId, version, source, JSON.stringify(steps)],
  );
  await m.query('UPDATE campaigns SET sequence_version = $2, updated_at = now() WHERE id = $1', [campaignId, version]);
  return version;
}

/** How many campaigns the tenant has that are not archived (its plan's campaign limit counts them). */
export async function countUnarchivedCampaigns(m: EntityManager): Promise<number> {
  const [c] = (await m.query("SELECT count(*)::int AS n FROM campaigns WHERE status <> 'archived'")) as { n: number }[];
  return Number(c!.n);
}

/** Up to 20 of the customer's campaigns, by id: a customer with campaigns is not deleted under them. */
export async function campaignsOfCustomer(m: EntityManager, customerId: string): Promise<{ id: string; name: string }[]> {
  return (await m.query('SELECT id, name FROM campaigns WHERE customer_id = $1 ORDER BY id LIMIT 20', [customerId])) as {
    id: string;
    name: string;
  }[];
}

/** The customer a campaign belongs to, if the campaign exists. */
export async function customerOfCampaign(m: EntityManager, campaignId: string): Promise<string | undefined> {
  const [c] = (await m.query('SELECT customer_id FROM campaigns WHERE id = $1', [campaignId])) as { customer_id: string }[];
  return c?.customer_id;
}

/** What a fan-out batch reads of its campaign. */
export interface FanoutCampaignRow {
  status: string;
  sequence_version: number | null;
  /** The first step's delay in the campaign's current sequence version. */
  first_delay_hours: number | null;
}

/**
 * The campaign as a fan-out batch sees it, FOR SHARE: the request that
 * changed it commits first.
 */
export async function readCampaignForFanout(m: EntityManager, campaignId: string): Promise<FanoutCampaignRow | undefined> {
  const [campaign] = (await m.query(
    `SELECT c.status, c.sequence_version,
            (SELECT (st->>'delayHours')::int FROM jsonb_array_elements(s.steps) st ORDER BY (st->>'position')::int LIMIT 1) AS first_delay_hours
       FROM campaigns c LEFT JOIN campaign_sequences s ON s.campaign_id = c.id AND s.version = c.sequence_version
      WHERE c.id = $1 FOR SHARE OF c`,
    [campaignId],
  )) as FanoutCampaignRow[];
  return campaign;
}

/** Every sequence snapshot of the campaign with its steps' texts (what a template check reads). */
export async function listSequenceSnapshotTexts(
  m: EntityManager,
  campaignId: string,
): Promise<{ version: number; steps: { subject: string; body: string }[] }[]> {
  return (await m.query('SELECT version, steps FROM campaign_sequences WHERE campaign_id = $1 ORDER BY version', [campaignId])) as {
    version: number;
    steps: { subject: string; body: string }[];
  }[];
}

/** Turns the campaign's open and click tracking on or off; later sends follow it. */
export async function setCampaignTracking(m: EntityManager, id: string, tracking: boolean): Promise<void> {
  await m.query('UPDATE campaigns SET tracking = $2, updated_at = now() WHERE id = $1', [id, tracking]);
}
