// Sequences and their steps: a customer's reusable e-mail sequence, its steps
// kept in dense positions (1, 2, 3 …). A campaign never sends from these rows:
// it takes a snapshot of the steps (db/campaigns.ts, campaign_sequences).
import { type EntityManager } from 'typeorm';
import { keysetPage, type ListParams, type Page } from './pagination';
import { newId } from './ids';

export interface SequenceRow {
  id: string;
  customer_id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
  /** Only in a list: how many steps the sequence has. */
  steps?: number;
}

export interface StepRow {
  id: string;
  position: number;
  subject: string;
  body: string;
  delay_hours: number;
}

/** A step as a campaign's sequence snapshot holds it. */
export interface StepSnapshot {
  subject: string;
  body: string;
  delayHours: number;
}

/** The customer's sequence, or undefined (another customer's is as absent as a missing one). */
export async function findSequence(m: EntityManager, customerId: string, id: string): Promise<SequenceRow | undefined> {
  const [row] = (await m.query('SELECT id, customer_id, name, created_at, updated_at FROM sequences WHERE id = $1 AND customer_id = $2', [
    id,
    customerId,
  ])) as SequenceRow[];
  return row;
}

/** The customer's sequence id, or undefined: a campaign checks a sequence it is about to snapshot. */
export async function findCustomerSequenceId(m: EntityManager, customerId: string, id: string): Promise<string | undefined> {
  const [seq] = (await m.query('SELECT id FROM sequences WHERE id = $1 AND customer_id = $2', [id, customerId])) as { id: string }[];
  return seq?.id;
}

export async function findStep(m: EntityManager, sequenceId: string, stepId: string): Promise<StepRow | undefined> {
  const [row] = (await m.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE id = $1 AND sequence_id = $2', [
    stepId,
    sequenceId,
  ])) as StepRow[];
  return row;
}

export async function listSequenceSteps(m: EntityManager, sequenceId: string): Promise<StepRow[]> {
  return (await m.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [
    sequenceId,
  ])) as StepRow[];
}

/** The steps in order, as a campaign's snapshot takes them. */
export async function sequenceStepSnapshots(m: EntityManager, sequenceId: string): Promise<StepSnapshot[]> {
  return (await m.query('SELECT subject, body, delay_hours AS "delayHours" FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [
    sequenceId,
  ])) as StepSnapshot[];
}

/** One page of the customer's sequences, each with its step count. */
export async function listSequencesPage(m: EntityManager, customerId: string, list: ListParams): Promise<Page<SequenceRow>> {
  return keysetPage<SequenceRow>(m, list, {
    select:
      'SELECT s.id, s.customer_id, s.name, s.created_at, s.updated_at, (SELECT count(*)::int FROM sequence_steps st WHERE st.sequence_id = s.id) AS steps FROM sequences s',
    key: 's.id',
    where: [['s.customer_id = ?', customerId]],
    search: ['s.name'],
    idOf: (r) => r.id,
  });
}

export async function insertSequence(m: EntityManager, customerId: string, name: string): Promise<SequenceRow> {
  const [row] = (await m.query(
    "INSERT INTO sequences (tenant_id, id, customer_id, name) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3) RETURNING id, customer_id, name, created_at, updated_at",
    [newId('seq'), customerId, name],
  )) as SequenceRow[];
  return row!;
}

export async function renameSequence(m: EntityManager, id: string, name: string): Promise<void> {
  await m.query('UPDATE sequences SET name = $2, updated_at = now() WHERE id = $1', [id, name]);
}

export async function deleteSequence(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM sequences WHERE id = $1', [id]);
}

/**
 * Appends a step at the next position. The sequence's row is locked first, so
 * appends to one sequence are serialised and positions stay dense.
 */
export async function appendSequenceStep(m: EntityManager, sequenceId: string, step: { subject: string; body: string; delayHours: number }): Promise<StepRow> {
  await m.query('SELECT 1 FROM sequences WHERE id = $1 FOR UPDATE', [sequenceId]);
  const [row] = (await m.query(
    `INSERT INTO sequence_steps (tenant_id, id, sequence_id, position, subject, body, delay_hours)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, (SELECT coalesce(max(position), 0) + 1 FROM sequence_steps WHERE sequence_id = $2), $3, $4, $5)
     RETURNING id, position, subject, body, delay_hours`,
    [newId('stp'), sequenceId, step.subject, step.body, step.delayHours],
  )) as StepRow[];
  await m.query('UPDATE sequences SET updated_at = now() WHERE id = $1', [sequenceId]);
  return row!;
}

export async function updateStep(m: EntityManager, stepId: string, step: { subject: string; body: string; delayHours: number }): Promise<void> {
  await m.query('UPDATE sequence_steps SET subject = $2, body = $3, delay_hours = $4, updated_at = now() WHERE id = $1', [
    stepId,
    step.subject,
    step.body,
    step.delayHours,
  ]);
}

/** Removes a step and closes the gap it leaves, so positions stay dense. */
export async function removeStep(m: EntityManager, sequenceId: string, step: { id: string; position: number }): Promise<void> {
  await m.query('DELETE FROM sequence_steps WHERE id = $1', [step.id]);
  await m.query('UPDATE sequence_steps SET position = position - 1 WHERE sequence_id = $1 AND position > $2', [sequenceId, step.position]);
}
