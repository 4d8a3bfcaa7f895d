import { error, fail } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Actions, PageServerLoad } from './$types';

interface Settings {
  analyticsRetentionDays: number | null;
  leadStages: string[];
}

const STAGE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const res = await api<Settings>(cookies, '/api/settings');
  if (res.status !== 200) error(res.status === 404 ? 404 : 502, 'Could not load the settings');
  return { settings: res.body };
};

export const actions: Actions = {
  /** The lead stages, one per line, in pipeline order. */
  stages: async ({ request, cookies }) => {
    const f = await request.formData();
    const text = String(f.get('leadStages') ?? '');
    const values = { leadStages: text };
    const stages = text
      .split(/[\n,]/)
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const bad = stages.filter((s) => !STAGE.test(s));
    const problem =
      bad.length > 0
        ? `${bad.map((s) => `“${s}”`).join(', ')}: a stage is up to 40 lower-case letters, digits, “-” or “_”.`
        : stages.length === 0
          ? 'Give at least one stage.'
          : stages.length > 30
            ? 'At most 30 stages.'
            : new Set(stages).size !== stages.length
              ? 'A stage is listed twice.'
              : !stages.includes('new')
                ? 'Keep “new”: every lead starts there.'
                : undefined;
    if (problem) return fail(400, { form: 'stages', message: 'Check the stages.', errors: { leadStages: problem }, values });
    const res = await api<Settings>(cookies, '/api/settings', { method: 'PATCH', body: { leadStages: stages } });
    if (res.status !== 200) {
      const failure = formFailure(res, 'stages', values);
      const errors = failure.data.errors as Record<string, string>;
      for (const k of Object.keys(errors)) if (k.startsWith('leadStages.')) errors.leadStages ??= errors[k]!;
      return failure;
    }
    return { form: 'stages', saved: true };
  },
};
