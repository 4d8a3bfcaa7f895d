// Sequences and their steps (seed 000), scoped to one customer: a sequence of
// another customer (or tenant) is 404, like one that does not exist. Nothing
// here logs customer ids or message content.
import { isId, newId } from '../../db/ids';
import { keysetPage, type ListParams } from '../../db/pagination';
import { notFound } from '../../lib/errors';
import { templateVariables } from '../../lib/templates';
import { type TenantAccess } from '../context';

interface SequenceRow {
  id: string;
  customer_id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
  steps?: number;
}

interface StepRow {
  id: string;
  position: number;
  subject: string;
  body: string;
  delay_hours: number;
}

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
  const [row] = (await a.manager.query('SELECT id, customer_id, name, created_at, updated_at FROM sequences WHERE id = $1 AND customer_id = $2', [
    id,
    customerId,
  ])) as SequenceRow[];
  if (!row) throw notFound('sequence');
  return row;
}

async function findStep(a: TenantAccess, sequenceId: string, stepId: string): Promise<StepRow> {
  if (!isId('stp', stepId)) throw notFound('step');
  const [row] = (await a.manager.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE id = $1 AND sequence_id = $2', [
    stepId,
    sequenceId,
  ])) as StepRow[];
  if (!row) throw notFound('step');
  return row;
}

async function sequenceJson(a: TenantAccess, s: SequenceRow) {
  const steps = (await a.manager.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [
    s.id,
  ])) as StepRow[];
  return { id: s.id, customerId: s.customer_id, name: s.name, createdAt: s.created_at, updatedAt: s.updated_at, steps: steps.map(stepJson) };
}

export async function listSequences(a: TenantAccess, customerId: string, list: ListParams) {
  const p = await keysetPage<SequenceRow>(a.manager, list, {
    select:
      'SELECT s.id, s.customer_id, s.name, s.created_at, s.updated_at, (SELECT count(*)::int FROM sequence_steps st WHERE st.sequence_id = s.id) AS steps FROM sequences s',
    key: 's.id',
    where: [['s.customer_id = ?', customerId]],
    search: ['s.name'],
    idOf: (r) => r.id,
  });
  return {
    data: p.data.map((s) => ({ id: s.id, customerId: s.customer_id, name: s.name, steps: s.steps, createdAt: s.created_at, updatedAt: s.updated_at })),
    nextCursor: p.nextCursor,
  };
}

export async function createSequence(a: TenantAccess, customerId: string, name: string) {
  const [row] = (await a.manager.query(
    "INSERT INTO sequences (tenant_id, id, customer_id, name) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3) RETURNING id, customer_id, name, created_at, updated_at",
    [newId('seq'), customerId, name],
  )) as SequenceRow[];
  return sequenceJson(a, row!);
}

export async function getSequence(a: TenantAccess, customerId: string, id: string) {
  return sequenceJson(a, await findSequence(a, customerId, id));
}

export async function renameSequence(a: TenantAccess, customerId: string, id: string, name: string) {
  const s = await findSequence(a, customerId, id);
  await a.manager.query('UPDATE sequences SET name = $2, updated_at = now() WHERE id = $1', [s.id, name]);
  return getSequence(a, customerId, s.id);
}

export async function deleteSequence(a: TenantAccess, customerId: string, id: string): Promise<void> {
  const s = await findSequence(a, customerId, id);
  await a.manager.query('DELETE FROM sequences WHERE id = $1', [s.id]);
}

export async function appendStep(a: TenantAccess, customerId: string, id: string, step: StepInput) {
  const s = await findSequence(a, customerId, id);
  // Serialise appends to one sequence so positions stay dense.
  await a.manager.query('SELECT 1 FROM sequences WHERE id = $1 FOR UPDATE', [s.id]);
  const [row] = (await a.manager.query(
    `INSERT INTO sequence_steps (tenant_id, id, sequence_id, position, subject, body, delay_hours)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, (SELECT coalesce(max(position), 0) + 1 FROM sequence_steps WHERE sequence_id = $2), $3, $4, $5)
     RETURNING id, position, subject, body, delay_hours`,
    [newId('stp'), s.id, step.subject, step.body, step.delayHours],
  )) as StepRow[];
  await a.manager.query('UPDATE sequences SET updated_at = now() WHERE id = $1', [s.id]);
  return stepJson(row!);
}

export async function changeStep(a: TenantAccess, customerId: string, id: string, stepId: string, patch: Partial<StepInput>) {
  const s = await findSequence(a, customerId, id);
  const step = await findStep(a, s.id, stepId);
  await a.manager.query('UPDATE sequence_steps SET subject = $2, body = $3, delay_hours = $4, updated_at = now() WHERE id = $1', [
    step.id,
    patch.subject ?? step.subject,
    patch.body ?? step.body,
    patch.delayHours ?? step.delay_hours,
  ]);
  return stepJson(await findStep(a, s.id, step.id));
}

export async function removeStep(a: TenantAccess, customerId: string, id: string, stepId: string): Promise<void> {
  const s = await findSequence(a, customerId, id);
  const step = await findStep(a, s.id, stepId);
  await a.manager.query('DELETE FROM sequence_steps WHERE id = $1', [step.id]);
  await a.manager.query('UPDATE sequence_steps SET position = position - 1 WHERE sequence_id = $1 AND position > $2', [s.id, step.position]);
}
