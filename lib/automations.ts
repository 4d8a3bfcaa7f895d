// An automation version's definition (docs/automations.md): one trigger, an
// optional filter and an ordered list of steps, validated by zod here and
// published in the OpenAPI document. A version is immutable once written, so
// a run interprets exactly the definition it started with. Conditions are
// JSON Logic over the run's data (`trigger`, `lead`), evaluated by the kept
// json-logic-js library in an activity that reads that data, so no lead's
// values reach the run's workflow history (docs/automations.md, "Runs").
import jsonLogic from 'json-logic-js';
import { z } from 'zod';
import { hasMalformedVariable } from './templates';

/** Analytics event types an automation can be triggered by (docs/analytics.md). */
export const EVENT_TRIGGERS = ['lead.created', 'lead.stage_changed', 'lead.tagged', 'message.replied', 'campaign.completed'] as const;
export type EventTrigger = (typeof EVENT_TRIGGERS)[number];

/** Events a `wait_for` step can wait for: those that concern the run's lead. */
export const WAIT_FOR_EVENTS = [
  'message.replied',
  'message.bounced',
  'message.opened',
  'message.clicked',
  'lead.stage_changed',
  'lead.tagged',
  'lead.unsubscribed',
] as const;

/** Triggers whose runs never have a lead (a `manual` run has one when its caller names a `leadId`). */
export const LEADLESS_TRIGGERS: readonly string[] = ['schedule', 'campaign.completed', 'webhook'];

/** The step types that act on the run's lead. */
export const LEAD_STEPS: readonly string[] = ['send_message', 'add_tag', 'remove_tag', 'set_stage', 'enroll_in_campaign', 'wait_for'];

/** Step types counted against the tenant's actions per rolling 60 s (docs/automations.md, "Limits"). */
export const COUNTED_ACTIONS: readonly string[] = ['send_message', 'webhook_call', 'notify', 'add_tag', 'remove_tag', 'set_stage', 'enroll_in_campaign'];

/** How deep `branch` and `wait_for` steps may nest. */
export const MAX_DEPTH = 4;
/** Steps in one list. */
export const MAX_STEPS = 50;

/** A duration: a whole number and a unit, `30s`, `15m`, `2h`, `3d` (at most 365 days). */
export const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_DURATION_MS = 365 * UNIT_MS.d;

export function durationMs(duration: string): number {
  const m = DURATION.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const duration = z
  .string()
  .regex(DURATION, 'must be a number and a unit: 30s, 15m, 2h or 3d')
  // zod runs a refinement after a failed check too: a malformed duration is the regex's issue alone.
  .refine((d) => !DURATION.test(d) || durationMs(d) <= MAX_DURATION_MS, { message: 'must be at most 365 days' });

/** Five cron fields (minute hour day-of-month month day-of-week), read in the tenant's time zone. */
const cron = z
  .string()
  .trim()
  .regex(/^(\S+\s+){4}\S+$/, 'must be five cron fields: minute hour day-of-month month day-of-week, for example "0 9 * * 1-5"')
  .refine((c) => c.split(/\s+/).every((f) => /^[0-9*,\-/A-Za-z?]+$/.test(f)), { message: 'holds a character cron does not use' });

/** A JSON Logic rule; its operators are checked by `checkLogic`. */
const logic = z
  .record(z.string(), z.unknown())
  .refine((r) => Object.keys(r).length === 1, { message: 'must be one JSON Logic operation, like {"==": [{"var": "lead.stage"}, "new"]}' })
  .refine((r) => checkLogic(r) === undefined, { error: (issue) => checkLogic(issue.input) ?? 'is not a JSON Logic rule' });

const tag = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_:-]{0,39}$/, 'must be 1 to 40 lower-case letters, digits, "-", "_" or ":", starting with a letter or digit');
const stage = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1 to 40 lower-case letters, digits, "-" or "_"');
const template = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((t) => !hasMalformedVariable(t), { message: 'has a malformed {{variable}}' });

const httpsUrl = z
  .string()
  .max(2000)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
      } catch {
        return false;
      }
    },
    { message: 'must be an http(s) URL without credentials' },
  );

export const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.enum(EVENT_TRIGGERS) }).strict(),
  z.object({ type: z.literal('webhook') }).strict(),
  z.object({ type: z.literal('schedule'), cron }).strict(),
  z.object({ type: z.literal('manual') }).strict(),
]);
export type Trigger = z.infer<typeof triggerSchema>;

export type Step =
  | { type: 'send_message'; inboxId: string; subject: string; text: string }
  | { type: 'add_tag'; tag: string }
  | { type: 'remove_tag'; tag: string }
  | { type: 'set_stage'; stage: string }
  | { type: 'enroll_in_campaign'; campaignId: string }
  | { type: 'notify'; title: string; body?: string; to: 'owners' | string[]; email?: boolean }
  | { type: 'wait'; duration: string }
  | { type: 'wait_for'; event: (typeof WAIT_FOR_EVENTS)[number]; timeout: string; onEvent: Step[]; onTimeout: Step[] }
  | { type: 'branch'; condition: Record<string, unknown>; then: Step[]; else: Step[] }
  | { type: 'webhook_call'; url: string; body?: Record<string, unknown>; timeoutSeconds?: number };

export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('send_message'),
        inboxId: z.string().regex(/^inb_[0-9a-z]{26}$/, 'must be an inbox id (inb_…)'),
        subject: template(300),
        text: template(20_000),
      })
      .strict(),
    z.object({ type: z.literal('add_tag'), tag }).strict(),
    z.object({ type: z.literal('remove_tag'), tag }).strict(),
    z.object({ type: z.literal('set_stage'), stage }).strict(),
    z.object({ type: z.literal('enroll_in_campaign'), campaignId: z.string().regex(/^cmp_[0-9a-z]{26}$/, 'must be a campaign id (cmp_…)') }).strict(),
    z
      .object({
        type: z.literal('notify'),
        title: z.string().trim().min(1).max(200),
        body: z.string().max(4000).optional(),
        to: z.union([
          z.literal('owners'),
          z
            .array(z.string().regex(/^usr_[0-9a-z]{26}$/, 'must be a user id (usr_…)'))
            .min(1)
            .max(50),
        ]),
        email: z.boolean().optional(),
      })
      .strict(),
    z.object({ type: z.literal('wait'), duration }).strict(),
    z
      .object({
        type: z.literal('wait_for'),
        event: z.enum(WAIT_FOR_EVENTS),
        timeout: duration,
        onEvent: z.array(stepSchema).max(MAX_STEPS),
        onTimeout: z.array(stepSchema).max(MAX_STEPS),
      })
      .strict(),
    z.object({ type: z.literal('branch'), condition: logic, then: z.array(stepSchema).max(MAX_STEPS), else: z.array(stepSchema).max(MAX_STEPS) }).strict(),
    z
      .object({
        type: z.literal('webhook_call'),
        url: httpsUrl,
        body: z.record(z.string(), z.unknown()).optional(),
        timeoutSeconds: z.number().int().min(1).max(30).optional(),
      })
      .strict(),
  ]),
);

export const definitionSchema = z
  .object({
    trigger: triggerSchema,
    filter: logic.optional(),
    steps: z.array(stepSchema).min(1, 'give at least one step').max(MAX_STEPS),
  })
  .strict()
  .superRefine((d, ctx) => {
    for (const { path, step, depth } of walkSteps(d.steps)) {
      if (depth > MAX_DEPTH) ctx.addIssue({ code: 'custom', path: stepIssuePath(path), message: `steps may nest at most ${MAX_DEPTH} deep` });
      if (LEAD_STEPS.includes(step.type) && LEADLESS_TRIGGERS.includes(d.trigger.type)) {
        ctx.addIssue({ code: 'custom', path: stepIssuePath(path), message: `a ${d.trigger.type} trigger has no lead for this step to act on` });
      }
    }
  });
export type Definition = z.infer<typeof definitionSchema>;

/** The data conditions read: the trigger's payload and, when the run has one, its lead. */
export interface RunData {
  trigger: { type: string; eventId?: string; payload: Record<string, unknown> };
  lead?: {
    id: string;
    email: string;
    firstName: string;
    lastName: string;
    company: string;
    fields: Record<string, string>;
    status: string;
    stage: string;
    tags: string[];
  };
}

/**
 * JSON Logic operators a condition may use: the library's own, minus
 * `method` (calls methods of values) and the array operators that take a
 * rule to run per element are kept, since they only evaluate rules.
 */
const ALLOWED_OPERATORS = new Set([
  '==', '===', '!=', '!==', '!', '!!', 'or', 'and', 'if', '?:', '>', '>=', '<', '<=', 'max', 'min', '+', '-', '*', '/', '%',
  'var', 'missing', 'missing_some', 'in', 'cat', 'substr', 'merge', 'all', 'none', 'some', 'map', 'filter', 'reduce',
]); // prettier-ignore

/** Why a JSON Logic rule is not allowed, or undefined when it is. */
export function checkLogic(rule: unknown): string | undefined {
  if (Array.isArray(rule)) {
    for (const r of rule) {
      const why = checkLogic(r);
      if (why) return why;
    }
    return undefined;
  }
  if (rule === null || typeof rule !== 'object') return undefined;
  const keys = Object.keys(rule);
  if (keys.length !== 1) return 'each JSON Logic operation is an object with one operator';
  const op = keys[0]!;
  if (!ALLOWED_OPERATORS.has(op)) return `"${op}" is not a JSON Logic operator conditions may use`;
  return checkLogic((rule as Record<string, unknown>)[op]);
}

/** Evaluates a condition over the run's data; true when the rule's result is truthy in JSON Logic's sense. */
export function evaluateCondition(rule: Record<string, unknown>, data: RunData): boolean {
  return jsonLogic.truthy(jsonLogic.apply(rule as jsonLogic.RulesLogic, data as unknown as Record<string, unknown>));
}

/** A step's place in the definition: `2` (the third step), `3.onEvent.0` → path `3.event.0`. */
export type StepPath = string;

const BRANCH_SEGMENTS = { onEvent: 'event', onTimeout: 'timeout', then: 'then', else: 'else' } as const;

/** Every step with its path (docs/automations.md, "Step paths") and nesting depth, in definition order. */
export function* walkSteps(steps: Step[], prefix = '', depth = 1): Generator<{ path: StepPath; step: Step; depth: number }> {
  for (const [i, step] of steps.entries()) {
    const path = `${prefix}${i}`;
    yield { path, step, depth };
    for (const [key, segment] of Object.entries(BRANCH_SEGMENTS)) {
      const inner = (step as unknown as Record<string, unknown>)[key];
      if (Array.isArray(inner)) yield* walkSteps(inner as Step[], `${path}.${segment}.`, depth + 1);
    }
  }
}

/** The zod issue path of a step path: `3.event.0` → ['steps', 3, 'onEvent', 0]. */
export function stepIssuePath(path: StepPath): (string | number)[] {
  const names = Object.fromEntries(Object.entries(BRANCH_SEGMENTS).map(([k, v]) => [v, k]));
  return ['steps', ...path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : names[p]!))];
}

/** True when a definition holds a step of this type anywhere. */
export function usesStep(d: Definition, type: Step['type']): boolean {
  for (const { step } of walkSteps(d.steps)) if (step.type === type) return true;
  return false;
}

/** A lead's tag, as a person sets it through the API: the rule the `add_tag` step uses. */
export const leadTagSchema = tag;
/** A stage name, as the tenant's list and a person's change give it: the rule the `set_stage` step uses. */
export const leadStageSchema = stage;
