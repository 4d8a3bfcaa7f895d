// Request schemas of triggering automations by hand (docs/automations.md,
// "Triggers"): `execute`, a real run or the builder's dry run.
import { z } from 'zod';
import { triggerPayloadProblem } from '../../lib/triggerPayload';

const payload = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = triggerPayloadProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const executeAutomation = z
  .object({
    /** The trigger's payload, as conditions read it (`trigger.payload`). */
    input: payload.optional(),
    /** The lead the run is about. */
    leadId: z
      .string()
      .regex(/^lead_[0-9a-z]{26}$/, 'must be a lead id (lead_…)')
      .optional(),
    /** Evaluate and record, sending, writing and calling nothing. */
    dryRun: z.boolean().optional(),
    /** The version to run: a dry run may name any (a draft); a real run only the live one. */
    version: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

export type ExecuteAutomationBody = z.infer<typeof executeAutomation>;
