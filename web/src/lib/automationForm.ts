// The automation builder's form (docs/console.md, "Automations"): a
// definition (docs/automations.md) as flat form fields and back. Top-level
// steps are fields of their own (`steps.2.inboxId`); the nested lists of
// `wait_for` and `branch` steps, the filter, a condition and a webhook body are
// JSON text. The builder works without JavaScript: adding, removing and moving
// a step posts the whole form and answers the changed draft.
import type { z } from 'zod';
import type * as AutomationsApi from '../../../api/schemas/automations.responses';
import { plainIssue } from './plainErrors';

export type Automation = z.output<typeof AutomationsApi.automation>;
export type AutomationList = { data: Automation[]; nextCursor: string | null };
export type AutomationVersion = z.output<typeof AutomationsApi.version>;
export type Definition = AutomationVersion['definition'];

export const TRIGGERS = [
  ['lead.created', 'A lead is added'],
  ['lead.stage_changed', "A lead's stage changes"],
  ['lead.tagged', 'A lead is tagged or untagged'],
  ['message.replied', 'A lead replies'],
  ['campaign.completed', 'A campaign completes'],
  ['webhook', 'A signed request arrives at its webhook URL'],
  ['schedule', 'On a schedule (cron)'],
  ['manual', 'Only when run by hand'],
] as const;

export const STEP_TYPES = [
  ['send_message', 'Send a message'],
  ['add_tag', 'Add a tag'],
  ['remove_tag', 'Remove a tag'],
  ['set_stage', 'Set the stage'],
  ['enroll_in_campaign', 'Enroll in a campaign'],
  ['notify', 'Notify members'],
  ['wait', 'Wait'],
  ['wait_for', 'Wait for an event'],
  ['branch', 'Branch on a condition'],
  ['webhook_call', 'Call a webhook'],
] as const;
export type StepType = (typeof STEP_TYPES)[number][0];

export const WAIT_FOR_EVENTS = [
  ['message.replied', 'the lead replies'],
  ['message.bounced', 'a message to the lead bounces'],
  ['message.opened', 'the lead opens a message'],
  ['message.clicked', 'the lead clicks a link'],
  ['lead.stage_changed', "the lead's stage changes"],
  ['lead.tagged', 'the lead is tagged'],
  ['lead.unsubscribed', 'the lead unsubscribes'],
] as const;

/** One step as the form holds it: every field a string (JSON text for the nested ones). */
export type StepDraft = { type: StepType } & Record<string, string>;

/** The builder's state: what the form shows and posts. */
export interface Draft {
  name: string;
  triggerType: string;
  cron: string;
  filter: string;
  steps: StepDraft[];
}

const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));

/** A fresh step of a type, with the fields it needs empty (a duration filled in: most waits are days). */
export function newStep(type: StepType): StepDraft {
  switch (type) {
    case 'wait':
      return { type, duration: '1d' };
    case 'wait_for':
      return { type, event: 'message.replied', timeout: '3d', onEvent: '[]', onTimeout: '[]' };
    case 'branch':
      return { type, condition: '', then: '[]', else: '[]' };
    case 'notify':
      return { type, title: '', body: '', toMode: 'owners', to: '', email: '' };
    default:
      return { type };
  }
}

function stepDraft(step: Record<string, unknown>): StepDraft {
  const type = step.type as StepType;
  const d: StepDraft = { ...newStep(type) };
  for (const [k, v] of Object.entries(step)) {
    if (k === 'type') continue;
    if (['onEvent', 'onTimeout', 'then', 'else', 'condition', 'body'].includes(k) && typeof v === 'object') d[k] = json(v);
    else if (k === 'to') {
      d.toMode = v === 'owners' ? 'owners' : 'members';
      d.to = Array.isArray(v) ? v.join(', ') : '';
    } else if (k === 'email') d.email = v ? 'on' : '';
    else d[k] = String(v);
  }
  return d;
}

export function draftOf(name: string, definition: Definition): Draft {
  const trigger = definition.trigger as { type: string; cron?: string };
  return {
    name,
    triggerType: trigger.type,
    cron: trigger.cron ?? '',
    filter: definition.filter ? json(definition.filter) : '',
    steps: (definition.steps as Record<string, unknown>[]).map(stepDraft),
  };
}

/** The draft the form posted: `steps.N.field` entries, in the order of N. */
export function draftFromForm(f: FormData): Draft {
  const get = (k: string) => String(f.get(k) ?? '');
  const indexes = [...f.keys()]
    .map((k) => /^steps\.(\d+)\.type$/.exec(k)?.[1])
    .filter((i): i is string => i !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const steps = indexes.map((i) => {
    const step: StepDraft = { ...newStep(get(`steps.${i}.type`) as StepType) };
    for (const [k, v] of f.entries()) {
      const m = /^steps\.(\d+)\.(\w+)$/.exec(k);
      if (m && Number(m[1]) === i && m[2] !== 'type' && m[2] !== 'to') step[m[2]!] = String(v);
    }
    // Members to notify come as checkboxes (several values) or as one text field.
    const to = f.getAll(`steps.${i}.to`).map(String).filter(Boolean);
    if (to.length > 0 || step.type === 'notify') step.to = to.join(', ');
    return step;
  });
  return { name: get('name').trim(), triggerType: get('triggerType'), cron: get('cron'), filter: get('filter'), steps };
}

/** Applies a builder operation (`add`, `remove:N`, `up:N`, `down:N`) to a draft. */
export function applyOp(draft: Draft, op: string, addType: string): Draft {
  const steps = [...draft.steps];
  const [verb, at] = op.split(':');
  const i = Number(at);
  if (verb === 'add' && STEP_TYPES.some(([t]) => t === addType)) steps.push(newStep(addType as StepType));
  else if (verb === 'remove' && steps[i]) steps.splice(i, 1);
  else if (verb === 'up' && i > 0 && steps[i]) [steps[i - 1], steps[i]] = [steps[i]!, steps[i - 1]!];
  else if (verb === 'down' && i < steps.length - 1) [steps[i], steps[i + 1]] = [steps[i + 1]!, steps[i]!];
  return { ...draft, steps };
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string, path: string, errors: Record<string, string>): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    errors[path] = 'This is not valid JSON. Check the brackets, quotes and commas.';
    return { ok: false };
  }
}

/**
 * The definition a draft describes, or the fields that cannot become one
 * (JSON that does not parse). Empty optional fields are left out, so the
 * API's own checks name what is missing.
 */
export function definitionOf(draft: Draft): { definition?: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const trigger: Record<string, unknown> = { type: draft.triggerType };
  if (draft.triggerType === 'schedule') trigger.cron = draft.cron;
  const definition: Record<string, unknown> = { trigger };
  if (draft.filter.trim()) {
    const p = parseJson(draft.filter, 'filter', errors);
    if (p.ok) definition.filter = p.value;
  }
  definition.steps = draft.steps.map((s, i) => {
    const step: Record<string, unknown> = { type: s.type };
    const text = (k: string) => {
      if (s[k] !== undefined && s[k] !== '') step[k] = s[k];
    };
    const parsed = (k: string, optional = false) => {
      const v = (s[k] ?? '').trim();
      if (optional && !v) return;
      const p = parseJson(v || 'null', `steps.${i}.${k}`, errors);
      if (p.ok) step[k] = p.value;
    };
    switch (s.type) {
      case 'send_message':
        ['inboxId', 'subject', 'text'].forEach(text);
        break;
      case 'add_tag':
      case 'remove_tag':
        text('tag');
        break;
      case 'set_stage':
        text('stage');
        break;
      case 'enroll_in_campaign':
        text('campaignId');
        break;
      case 'notify':
        text('title');
        text('body');
        step.to =
          s.toMode === 'members'
            ? (s.to ?? '')
                .split(/[\s,]+/)
                .map((x) => x.trim())
                .filter(Boolean)
            : 'owners';
        if (s.email === 'on') step.email = true;
        break;
      case 'wait':
        text('duration');
        break;
      case 'wait_for':
        ['event', 'timeout'].forEach(text);
        parsed('onEvent');
        parsed('onTimeout');
        break;
      case 'branch':
        parsed('condition');
        parsed('then');
        parsed('else');
        break;
      case 'webhook_call':
        text('url');
        parsed('body', true);
        if (s.timeoutSeconds) step.timeoutSeconds = Number(s.timeoutSeconds);
        break;
    }
    return step;
  });
  return Object.keys(errors).length ? { errors } : { definition, errors };
}

/** A message of the API's definition checks in plain words: its fragments ("must be …") read as sentences. */
export function plainFieldMessage(message: string): string {
  const plain = plainIssue(message);
  if (plain !== message) return plain;
  const sentence = /^(must|is|has|holds|give|steps may|a [\w.]+ trigger)\b/.test(message) ? `This ${message}` : message;
  return (sentence.charAt(0).toUpperCase() + sentence.slice(1)).replace(/([^.])$/, '$1.');
}

/**
 * Field errors of the API (paths under `definition.`) placed on the
 * builder's fields: a top-level step's own field, or — inside a nested list —
 * the list's JSON box, naming the step within it.
 */
export function builderErrors(apiErrors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, message: string) => {
    out[key] = out[key] ? `${out[key]} ${message}` : message;
  };
  for (const [rawPath, message] of Object.entries(apiErrors)) {
    const path = rawPath.replace(/^definition\./, '');
    const nested = /^(steps\.\d+\.(?:onEvent|onTimeout|then|else))\.(\d+)(?:\.(.+))?$/.exec(path);
    if (nested) {
      add(nested[1]!, `Step ${Number(nested[2]) + 1} in this list${nested[3] ? ` (${nested[3]})` : ''}: ${plainFieldMessage(message)}`);
      continue;
    }
    const toMember = /^(steps\.\d+\.to)\.\d+$/.exec(path);
    if (toMember) {
      add(toMember[1]!, plainFieldMessage(message).replace(/^This /, 'A chosen member '));
      continue;
    }
    // A step's discriminator or the step itself: shown at the step's heading.
    const stepPath = /^(steps\.\d+)(?:\.type)?$/.exec(path);
    if (stepPath) {
      add(stepPath[1]!, plainFieldMessage(message));
      continue;
    }
    if (path.startsWith('trigger')) {
      add(path === 'trigger.cron' ? 'cron' : 'triggerType', plainFieldMessage(message));
      continue;
    }
    if (path.startsWith('filter')) {
      add('filter', plainFieldMessage(message));
      continue;
    }
    add(path === '(root)' ? 'form' : path, plainFieldMessage(message));
  }
  return out;
}
