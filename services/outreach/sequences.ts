// Sequences and their steps, scoped to one customer: a sequence of another
// customer (or tenant) is 404, like one that does not exist. Nothing here
// logs customer ids or message content. The statements are db/sequences.ts.
import { isId } from '../../db/ids';
import { customerLeadFieldKeys } from '../../db/leads';
import { type ListParams } from '../../db/pagination';
import * as sequences from '../../db/sequences';
import { type SequenceRow, type StepRow } from '../../db/sequences';
import { ApiError, notFound } from '../../lib/errors';
import { LEAD_COLUMN_VARIABLES, templateVariables, unknownVariables, unknownVariablesMessage } from '../../lib/templates';
import { type TenantAccess } from '../context';

export interface StepInput {
  subject: string;
  body: string;
  delayHours: number;
}

const stepJson = (s: StepRow) => ({
  id: s.id,
  position: s.position,
  subject: s.subject,
  body: s.body,
  delayHours: s.delay_hours,
  variables: templateVariables(`${s.subject}\n${s.body}`),
});

async function findSequence(a: TenantAccess, customerId: string, id: string): Promise<SequenceRow> {
  if (!isId('seq', id)) throw notFound('sequence');
  const row = await sequences.findSequence(a.manager, customerId, id);
  if (!row) throw notFound('sequence');
  return row;
}

async function findStep(a: TenantAccess, sequenceId: string, stepId: string): Promise<StepRow> {
  if (!isId('stp', stepId)) throw notFound('step');
  const row = await sequences.findStep(a.manager, sequenceId, stepId);
  if (!row) throw notFound('step');
  return row;
}

async function sequenceJson(a: TenantAccess, s: SequenceRow) {
  const steps = await sequences.listSequenceSteps(a.manager, s.id);
  const custom = await customerLeadFieldKeys(a.manager, s.customer_id);
  return {
    id: s.id,
    customerId: s.customer_id,
    name: s.name,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
    steps: steps.map(stepJson),
    availableVariables: [...LEAD_COLUMN_VARIABLES, ...custom],
  };
}

/**
 * Refuses a step whose subject or body uses a variable no lead of the
 * customer can fill: every lead would pause at it. Known are the lead's
 * columns and the custom fields the customer's leads have.
 */
async function assertKnownVariables(a: TenantAccess, customerId: string, step: { subject: string; body: string }): Promise<void> {
  // A change of the delay alone names no text: no scan of the customer's leads.
  if (!step.subject && !step.body) return;
  const custom = await customerLeadFieldKeys(a.manager, customerId);
  const details = (['subject', 'body'] as const).flatMap((path) => {
    const unknown = unknownVariables(step[path], custom);
    return unknown.length ? [{ path, message: unknownVariablesMessage(unknown, custom), code: 'unknown_variable' }] : [];
  });
  if (details.length > 0) throw new ApiError(400, 'validation_failed', details[0]!.message, details);
}

export async function listSequences(a: TenantAccess, customerId: string, list: ListParams) {
  const p = await sequences.listSequencesPage(a.manager, customerId, list);
  return {
    data: p.data.map((s) => ({ id: s.id, customerId: s.customer_id, name: s.name, steps: s.steps, createdAt: s.created_at, updatedAt: s.updated_at })),
    nextCursor: p.nextCursor,
  };
}

export async function createSequence(a: TenantAccess, customerId: string, name: string) {
  return sequenceJson(a, await sequences.insertSequence(a.manager, customerId, name));
}

export async function getSequence(a: TenantAccess, customerId: string, id: string) {
  return sequenceJson(a, await findSequence(a, customerId, id));
}

export async function renameSequence(a: TenantAccess, customerId: string, id: string, name: string) {
  const s = await findSequence(a, customerId, id);
  await sequences.renameSequence(a.manager, s.id, name);
  return getSequence(a, customerId, s.id);
}

export async function deleteSequence(a: TenantAccess, customerId: string, id: string): Promise<void> {
  const s = await findSequence(a, customerId, id);
  await sequences.deleteSequence(a.manager, s.id);
}

export async function appendStep(a: TenantAccess, customerId: string, id: string, step: StepInput) {
  const s = await findSequence(a, customerId, id);
  await assertKnownVariables(a, s.customer_id, step);
  return stepJson(await sequences.appendSequenceStep(a.manager, s.id, step));
}

export async function changeStep(a: TenantAccess, customerId: string, id: string, stepId: string, patch: Partial<StepInput>) {
  const s = await findSequence(a, customerId, id);
  const step = await findStep(a, s.id, stepId);
  const next = { subject: patch.subject ?? step.subject, body: patch.body ?? step.body, delayHours: patch.delayHours ?? step.delay_hours };
  // Only the texts this request changes are checked: a step saved before its leads changed stays editable.
  await assertKnownVariables(a, s.customer_id, { subject: patch.subject ?? '', body: patch.body ?? '' });
  await sequences.updateStep(a.manager, step.id, next);
  return stepJson(await findStep(a, s.id, step.id));
}

export async function removeStep(a: TenantAccess, customerId: string, id: string, stepId: string): Promise<void> {
  const s = await findSequence(a, customerId, id);
  const step = await findStep(a, s.id, stepId);
  await sequences.removeStep(a.manager, s.id, step);
}
