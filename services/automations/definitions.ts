// Automations and their versions (docs/automations.md, "Definitions and
// versions"): creating one writes version 1 as a draft; saving an edit adds a
// version (never changes one); publishing points the automation at a version;
// enabling turns its trigger on. A definition is checked by its schema
// (lib/automations.ts) and then against the tenant's data: the inboxes and
// campaigns it names belong to the automation's customer, its stages are the
// tenant's, the members it notifies are members. A member restricted to one
// customer sees and changes only that customer's automations; tenant-wide
// ones are hidden from it, as resources out of its reach are everywhere.
// The webhook secret is sealed at rest and shown once, when made.
import { randomBytes } from 'node:crypto';
import { type ListParams } from '../../db/pagination';
import * as db from '../../db/automations';
import { lastRunTimes } from '../../db/automationRuns';
import { customerOfCampaign } from '../../db/campaigns';
import { newId } from '../../db/ids';
import { readInboxSender } from '../../db/inboxes';
import { hasMembership } from '../../db/memberships';
import { leadStages } from '../../db/tenants';
import { type Definition, stepIssuePath, usesStep, walkSteps } from '../../lib/automations';
import { type Keyring, seal } from '../../lib/encryption';
import { ApiError, forbidden, notFound } from '../../lib/errors';
import { automationSecretAad } from '../../lib/secretScopes';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { customerContext } from '../tenancy/customers';
import { afterAutomationChange } from './lifecycle';
import { everScheduled } from '../../db/automationTriggers';
import { type AutomationDeps } from './queue';

export interface DefinitionDeps extends AutomationDeps {
  /** Seals the webhook secrets; without it an automation cannot be created (503). */
  keyring?: Keyring;
}

type Issue = { path: string; message: string; code: 'custom' };

function automationJson(r: db.AutomationRow, lastRunAt: Date | null = null) {
  return {
    id: r.id,
    customerId: r.customer_id,
    name: r.name,
    enabled: r.enabled,
    liveVersion: r.live_version,
    latestVersion: r.latest_version,
    triggerType: r.trigger_type,
    lastRunAt,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function versionJson(v: db.VersionRow) {
  return {
    version: v.version,
    definition: v.definition as Definition,
    createdBy: v.created_by,
    createdAt: v.created_at,
    publishedAt: v.published_at,
    publishedBy: v.published_by,
  };
}

/** An automation the caller may see, or the same 404 as one that does not exist. */
async function findVisible(a: TenantAccess, id: string): Promise<db.AutomationRow> {
  const row = await db.findAutomation(a.manager, id);
  if (!row || (a.restrictedCustomerId !== null && row.customer_id !== a.restrictedCustomerId)) throw notFound('automation');
  return row;
}

/** Locks an automation the caller may see, for a change. */
async function lockVisible(a: TenantAccess, id: string): Promise<db.AutomationRow> {
  const row = await findVisible(a, id);
  await db.lockAutomation(a.manager, id);
  return row;
}

function newWebhookSecret(deps: DefinitionDeps, tenantId: string, automationId: string) {
  if (!deps.keyring) throw new ApiError(503, 'encryption_not_configured', 'secrets cannot be stored: TENANTFLOW_ENCRYPTION_KEYS is not set');
  const plaintext = `whsec_${randomBytes(32).toString('base64')}`;
  return { plaintext, sealed: seal(deps.keyring, plaintext, automationSecretAad(tenantId, automationId)) };
}

/**
 * What the definition names that the tenant does not have for this
 * automation, as field errors under `definition.` (the request's field).
 */
async function referenceIssues(a: TenantAccess, customerId: string | null, d: Definition): Promise<Issue[]> {
  const issues: Issue[] = [];
  const at = (path: string, field: string, message: string) =>
    issues.push({ path: ['definition', ...stepIssuePath(path), field].join('.'), message, code: 'custom' });
  const owner = customerId ? "this automation's customer" : 'this tenant';
  let stages: string[] | undefined;
  for (const { path, step } of walkSteps(d.steps)) {
    if (step.type === 'send_message') {
      const inbox = await readInboxSender(a.manager, step.inboxId);
      if (!inbox || (customerId && inbox.customer_id !== customerId)) at(path, 'inboxId', `is not an inbox of ${owner}`);
    } else if (step.type === 'enroll_in_campaign') {
      const of = await customerOfCampaign(a.manager, step.campaignId);
      if (!of || (customerId && of !== customerId)) at(path, 'campaignId', `is not a campaign of ${owner}`);
    } else if (step.type === 'set_stage') {
      stages ??= await leadStages(a.manager, a.tenantId);
      if (!stages.includes(step.stage)) at(path, 'stage', `is not one of the tenant's lead stages (${stages.join(', ')})`);
    } else if (step.type === 'notify' && Array.isArray(step.to)) {
      for (const [i, userId] of step.to.entries()) {
        if (!(await hasMembership(a.manager, userId))) at(path, `to.${i}`, 'is not a member of this tenant');
      }
    }
  }
  return issues;
}

async function assertReferences(a: TenantAccess, customerId: string | null, d: Definition): Promise<void> {
  const issues = await referenceIssues(a, customerId, d);
  if (issues.length > 0) throw new ApiError(400, 'validation_failed', 'the definition names what this automation cannot use', issues);
}

/** The customer a new automation belongs to: the one named (which the caller must reach), a restricted member's own, or none. */
async function scopeOf(a: TenantAccess, customerId: string | null | undefined): Promise<string | null> {
  const wanted = customerId ?? a.restrictedCustomerId;
  if (!wanted) return null;
  try {
    return (await customerContext(a, wanted)).id;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    throw new ApiError(400, 'invalid_customer_context', 'customerId must name a customer of your tenant that you can access', [
      { path: 'customerId', message: 'is not a customer you can choose', code: 'custom' },
    ]);
  }
}

export async function listAutomations(a: TenantAccess, list: ListParams) {
  const p = await db.listAutomationsPage(a.manager, list, a.restrictedCustomerId ?? undefined);
  const lastRuns = p.data.length
    ? await lastRunTimes(
        a.manager,
        p.data.map((r) => r.id),
      )
    : new Map<string, Date>();
  return { data: p.data.map((r) => automationJson(r, lastRuns.get(r.id) ?? null)), nextCursor: p.nextCursor };
}

export async function getAutomation(a: TenantAccess, id: string) {
  const row = await findVisible(a, id);
  return automationJson(row, (await lastRunTimes(a.manager, [id])).get(id) ?? null);
}

export async function createAutomation(a: TenantAccess, deps: DefinitionDeps, input: { name: string; customerId?: string | null; definition: Definition }) {
  const customerId = await scopeOf(a, input.customerId);
  await assertReferences(a, customerId, input.definition);
  const id = newId('auto');
  const secret = newWebhookSecret(deps, a.tenantId, id);
  await db.insertAutomation(a.manager, {
    id,
    customerId,
    name: input.name,
    webhookSecret: secret.sealed,
    createdBy: a.userId,
    definition: input.definition,
  });
  await auditBy(a, { action: 'automation.created', outcome: 'success', targetType: 'automation', targetId: id, details: { customerId } });
  a.afterCommit(() => afterAutomationChange(deps, a.tenantId, id));
  return { ...automationJson((await db.findAutomation(a.manager, id))!), webhookSecret: secret.plaintext };
}

export async function renameAutomation(a: TenantAccess, id: string, name: string) {
  await lockVisible(a, id);
  await db.renameAutomation(a.manager, id, name);
  return getAutomation(a, id);
}

export async function deleteAutomation(a: TenantAccess, deps: DefinitionDeps, id: string): Promise<void> {
  const row = await lockVisible(a, id);
  // Its versions go with it: whether a schedule may exist is read before.
  const scheduled = await everScheduled(a.manager, id);
  await db.deleteAutomation(a.manager, id);
  await auditBy(a, { action: 'automation.deleted', outcome: 'success', targetType: 'automation', targetId: id, details: { name: row.name } });
  a.afterCommit(() => afterAutomationChange(deps, a.tenantId, id, scheduled));
}

export async function listVersions(a: TenantAccess, id: string) {
  await findVisible(a, id);
  return { data: (await db.listVersions(a.manager, id)).map(versionJson) };
}

/** A version by its number; anything that is not one of the automation's is the version's 404. */
export async function getVersion(a: TenantAccess, id: string, version: string) {
  await findVisible(a, id);
  const v = /^[1-9][0-9]{0,8}$/.test(version) ? await db.findVersion(a.manager, id, Number(version)) : undefined;
  if (!v) throw notFound('version');
  return versionJson(v);
}

/** Saves an edit: a new draft version (the highest number plus one). */
export async function saveVersion(a: TenantAccess, id: string, definition: Definition) {
  const row = await lockVisible(a, id);
  await assertReferences(a, row.customer_id, definition);
  const version = await db.appendVersion(a.manager, id, definition, a.userId);
  return versionJson((await db.findVersion(a.manager, id, version))!);
}

export async function publishVersion(a: TenantAccess, deps: DefinitionDeps, id: string, version: number) {
  const row = await lockVisible(a, id);
  const v = await db.findVersion(a.manager, id, version);
  if (!v)
    throw new ApiError(400, 'validation_failed', 'no such version', [{ path: 'version', message: 'is not a version of this automation', code: 'custom' }]);
  const definition = v.definition as Definition;
  // Sending mail on the tenant's behalf is its own permission: the author of
  // an automation that sends must be allowed to send.
  if (usesStep(definition, 'send_message') && !a.permissions.has('messages.send')) throw forbidden('messages.send');
  // What the version names may have gone since it was saved (an inbox removed).
  await assertReferences(a, row.customer_id, definition);
  await db.publishVersion(a.manager, id, version, a.userId);
  await auditBy(a, { action: 'automation.published', outcome: 'success', targetType: 'automation', targetId: id, details: { version } });
  a.afterCommit(() => afterAutomationChange(deps, a.tenantId, id));
  return getAutomation(a, id);
}

export async function setEnabled(a: TenantAccess, deps: DefinitionDeps, id: string, enabled: boolean) {
  const row = await lockVisible(a, id);
  if (enabled && row.live_version === null) throw new ApiError(409, 'automation_not_published', 'publish a version before enabling the automation');
  if (row.enabled !== enabled) {
    await db.setAutomationEnabled(a.manager, id, enabled);
    await auditBy(a, { action: enabled ? 'automation.enabled' : 'automation.disabled', outcome: 'success', targetType: 'automation', targetId: id });
  }
  a.afterCommit(() => afterAutomationChange(deps, a.tenantId, id));
  return getAutomation(a, id);
}

/** A new webhook secret (the old one stops working at once), shown this once. */
export async function rotateWebhookSecret(a: TenantAccess, deps: DefinitionDeps, id: string) {
  await lockVisible(a, id);
  const secret = newWebhookSecret(deps, a.tenantId, id);
  await db.setWebhookSecret(a.manager, id, secret.sealed);
  await auditBy(a, { action: 'automation.webhook_secret_rotated', outcome: 'success', targetType: 'automation', targetId: id });
  return { webhookSecret: secret.plaintext };
}
