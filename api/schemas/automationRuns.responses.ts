// What the run API answers (docs/automations.md, "Run API").
import { z } from 'zod';
import { RUN_STATUSES } from './automationRuns';
import { at, id, list, record } from './common';

const runError = z
  .strictObject({ code: z.string(), message: z.string(), step: z.string().optional() })
  .nullable()
  .describe('why the run failed or was refused; the step is its path');

const runFields = {
  id: id('arun'),
  automationId: id('auto'),
  version: z.number().int().describe('the automation version the run interprets'),
  status: z.enum(RUN_STATUSES),
  triggerType: z.string(),
  leadId: id('lead').nullable(),
  customerId: id('cust').nullable(),
  dryRun: z.boolean(),
  rerunOf: id('arun').nullable().describe('the failed run this one reruns'),
  error: runError,
  queuedAt: at,
  startedAt: at.nullable(),
  endedAt: at.nullable(),
};

export const automationRunList = list(z.strictObject(runFields));

export const automationRun = z.strictObject({
  ...runFields,
  workflowId: z.string().describe("the run's Temporal workflow: tenant/{t}/automation/{a}/run/{runId}"),
  trigger: z.strictObject({ type: z.string(), eventId: z.string().optional(), payload: record }).describe('what started the run, with its payload'),
  waitingFor: record.nullable().describe('what a waiting run waits for'),
  reruns: z.array(id('arun')).describe('the runs that rerun this one, newest first'),
  steps: z.array(
    z.strictObject({
      path: z.string().describe("the step's path in the definition: 0, 1, 2.event.0 …"),
      ordinal: z.number().int(),
      type: z.string(),
      status: z.enum(['running', 'waiting', 'completed', 'failed', 'skipped', 'canceled']),
      attempt: z.number().int(),
      output: z.unknown().describe('what the step did (for a dry run: what it would do)'),
      error: record.nullable(),
      startedAt: at,
      endedAt: at.nullable(),
    }),
  ),
});

export const automationRunCanceled = z.strictObject({
  id: id('arun'),
  status: z.enum(['canceled', 'cancel_requested']).describe('canceled: it was still queued; cancel_requested: its workflow was asked and ends it'),
});

export const automationRunRerun = z.strictObject({ runId: id('arun').describe('the new run (the same one for a repeated request)') });
