// Industry templates (config/industryTemplates/*.json): the roles, default
// settings, onboarding checklist, entitlements and billing start a new tenant
// starts with.
// Read and validated once; a broken template fails loudly at start-up.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ALL_PERMISSIONS, isPermission, type Permission } from './permissions';
import { PLAN_KEYS } from './plans';

const TEMPLATES_DIR = path.resolve(__dirname, '..', 'config', 'industryTemplates');

const TemplateSchema = z
  .object({
    key: z.string().regex(/^[a-z][a-z-]{1,40}$/),
    name: z.string().min(1),
    roles: z
      .array(
        z.object({
          key: z.string().regex(/^[a-z_]{2,30}$/),
          name: z.string().min(1).max(100),
          permissions: z.union([z.literal('*'), z.array(z.string().refine(isPermission, 'unknown permission'))]),
        }),
      )
      .refine((roles) => roles.some((r) => r.key === 'owner' && r.permissions === '*'), 'a template needs an owner role with every permission'),
    settings: z.record(z.string(), z.unknown()),
    onboardingChecklist: z.array(z.object({ key: z.string().regex(/^[a-z_]{2,40}$/), title: z.string().min(1) })),
    /** How a new tenant's billing starts: on a plan, optionally as a trial of it. */
    billing: z.object({ plan: z.enum(PLAN_KEYS), trialDays: z.number().int().min(1).max(90).optional() }).strict(),
    entitlements: z.array(z.object({ key: z.string().regex(/^[a-z_]{2,40}$/), enabled: z.boolean(), limit: z.number().int().positive().optional() })),
  })
  .strict();

export type IndustryTemplate = Omit<z.infer<typeof TemplateSchema>, 'roles'> & {
  roles: { key: string; name: string; permissions: Permission[] }[];
};

let cache: Map<string, IndustryTemplate> | undefined;

export function industryTemplates(): Map<string, IndustryTemplate> {
  if (cache) return cache;
  cache = new Map();
  for (const file of fs
    .readdirSync(TEMPLATES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const parsed = TemplateSchema.safeParse(JSON.parse(fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8')));
    if (!parsed.success) throw new Error(`industry template ${file} is invalid: ${parsed.error.message}`);
    const t = parsed.data;
    cache.set(t.key, {
      ...t,
      roles: t.roles.map((r) => ({ ...r, permissions: r.permissions === '*' ? [...ALL_PERMISSIONS] : (r.permissions as Permission[]) })),
    });
  }
  return cache;
}

export function industryTemplate(key: string): IndustryTemplate | undefined {
  return industryTemplates().get(key);
}
