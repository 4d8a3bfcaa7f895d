// What triggering an automation reads (docs/automations.md, "Triggers"): the
// tenant's live automations with their live definitions, one automation with
// a chosen version and its webhook secret, whether anything is live, and the
// lead an automation may act on. Reads only; automations and their versions
// are written by db/automations.ts.
import { type EntityManager } from 'typeorm';
import { type Definition } from '../lib/automations';
import { type Sealed } from '../lib/encryption';

export interface LiveAutomation {
  id: string;
  customer_id: string | null;
  version: number;
  definition: Definition;
}

/** The tenant's enabled automations whose live version is triggered by one of `types`. */
export async function liveAutomationsTriggeredBy(m: EntityManager, types: readonly string[]): Promise<LiveAutomation[]> {
  return (await m.query(
    `SELECT a.id, a.customer_id, a.live_version AS version, v.definition
       FROM automations a JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.live_version
      WHERE a.enabled AND v.definition->'trigger'->>'type' = ANY($1::text[])
      ORDER BY a.id`,
    [types],
  )) as LiveAutomation[];
}

export interface TriggerableAutomation {
  id: string;
  customer_id: string | null;
  enabled: boolean;
  live_version: number | null;
  webhook_secret: Sealed;
  /** The version asked for (the live one when none was): null when it does not exist. */
  version: number | null;
  definition: Definition | null;
}

/** One automation with `version` (default: its live version) and its definition. */
export async function findTriggerableAutomation(m: EntityManager, id: string, version?: number): Promise<TriggerableAutomation | undefined> {
  const [row] = (await m.query(
    `SELECT a.id, a.customer_id, a.enabled, a.live_version, a.webhook_secret, v.version, v.definition
       FROM automations a LEFT JOIN automation_versions v ON v.automation_id = a.id AND v.version = coalesce($2::int, a.live_version)
      WHERE a.id = $1`,
    [id, version ?? null],
  )) as TriggerableAutomation[];
  return row;
}

/** Whether the tenant has an enabled, published automation, or a run not yet ended (a `wait_for` needs the events too). */
export async function automationsLive(m: EntityManager): Promise<boolean> {
  const [row] = (await m.query(
    `SELECT EXISTS (SELECT 1 FROM automations WHERE enabled AND live_version IS NOT NULL)
         OR EXISTS (SELECT 1 FROM automation_runs WHERE status IN ('queued', 'running', 'waiting')) AS live`,
  )) as { live: boolean }[];
  return row!.live;
}

/** The lead `automationId` may act on: a lead of its customer, or of any customer for a tenant-wide automation. */
export async function automationLead(m: EntityManager, automationId: string, leadId: string): Promise<{ id: string; customer_id: string } | undefined> {
  const [row] = (await m.query(
    `SELECT l.id, l.customer_id
       FROM automations a JOIN leads l ON l.tenant_id = a.tenant_id AND l.id = $2 AND (a.customer_id IS NULL OR l.customer_id = a.customer_id)
      WHERE a.id = $1`,
    [automationId, leadId],
  )) as { id: string; customer_id: string }[];
  return row;
}

/** Whether any version of the automation is triggered by a schedule (so a Temporal Schedule may exist for it). */
export async function everScheduled(m: EntityManager, automationId: string): Promise<boolean> {
  const [row] = (await m.query(
    "SELECT EXISTS (SELECT 1 FROM automation_versions WHERE automation_id = $1 AND definition->'trigger'->>'type' = 'schedule') AS scheduled",
    [automationId],
  )) as { scheduled: boolean }[];
  return row!.scheduled;
}
