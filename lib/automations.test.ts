// The definition schema's rules that zod's shapes alone do not say
// (docs/automations.md, "Definitions and versions").
import { checkLogic, definitionSchema, durationMs, walkSteps } from './automations';

const issues = (d: unknown) => (definitionSchema.safeParse(d).error?.issues ?? []).map((i) => [i.path.join('.'), i.message]);

it('refuses lead steps where the trigger gives no lead, and allows them where it may', () => {
  for (const trigger of [{ type: 'webhook' }, { type: 'schedule', cron: '0 9 * * 1' }, { type: 'campaign.completed' }]) {
    expect(issues({ trigger, steps: [{ type: 'add_tag', tag: 'x' }] })).toEqual([['steps.0', `a ${trigger.type} trigger has no lead for this step to act on`]]);
    expect(issues({ trigger, steps: [{ type: 'notify', title: 'Hi', to: 'owners' }] })).toEqual([]);
  }
  for (const trigger of [{ type: 'manual' }, { type: 'lead.created' }, { type: 'message.replied' }]) {
    expect(issues({ trigger, steps: [{ type: 'add_tag', tag: 'x' }] })).toEqual([]);
  }
});

it('names nested steps by path, and refuses nesting deeper than four', () => {
  const wait = (inner: unknown[]) => ({ type: 'wait_for', event: 'message.replied', timeout: '1d', onEvent: inner, onTimeout: [] });
  const d = definitionSchema.parse({ trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '1h' }, wait([{ type: 'add_tag', tag: 'a' }])] });
  expect([...walkSteps(d.steps)].map((s) => s.path)).toEqual(['0', '1', '1.event.0']);
  const tooDeep = wait([wait([wait([wait([{ type: 'add_tag', tag: 'a' }])])])]);
  expect(issues({ trigger: { type: 'manual' }, steps: [tooDeep] })).toEqual([
    ['steps.0.onEvent.0.onEvent.0.onEvent.0.onEvent.0', 'steps may nest at most 4 deep'],
  ]);
});

it('reads durations and refuses ones it cannot', () => {
  expect(durationMs('90s')).toBe(90_000);
  expect(durationMs('3d')).toBe(3 * 86_400_000);
  expect(issues({ trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '2 days' }] })[0]?.[1]).toMatch(/number and a unit/);
  expect(issues({ trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '366d' }] })[0]?.[1]).toMatch(/365 days/);
});

it('allows only JSON Logic operators that evaluate rules', () => {
  expect(checkLogic({ and: [{ '==': [{ var: 'lead.stage' }, 'new'] }, { in: ['vip', { var: 'lead.tags' }] }] })).toBeUndefined();
  expect(checkLogic({ method: [{ var: 'lead.email' }, 'toUpperCase'] })).toMatch(/"method" is not a JSON Logic operator/);
});
