// What the trigger routes answer: the run a trigger recorded, and an
// automation's next scheduled times.
import { z } from 'zod';
import { at, id } from './common';

export const triggeredRun = z.strictObject({
  runId: id('arun'),
  status: z.enum(['queued', 'running', 'waiting', 'completed', 'failed', 'canceled']),
});

export const automationSchedule = z.strictObject({
  /** Whether the automation has a schedule (an enabled automation triggered by `schedule`). */
  scheduled: z.boolean(),
  nextActionTimes: z.array(at),
});
