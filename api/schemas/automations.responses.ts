// What the automation routes answer: automations, their versions, a webhook
// secret shown once. How these schemas are used: api/schemas/common.ts.
import { z } from 'zod';
import { definitionSchema } from '../../lib/automations';
import { at, dataOnly, id, list } from './common';

export const automation = z.strictObject({
  id: id('auto'),
  customerId: id('cust').nullable(),
  name: z.string(),
  enabled: z.boolean(),
  /** The version runs start on; null until one is published. */
  liveVersion: z.number().int().nullable(),
  /** The newest version (a draft when above liveVersion). */
  latestVersion: z.number().int(),
  /** The live version's trigger (the newest version's while none is live). */
  triggerType: z.string().nullable(),
  lastRunAt: at.nullable(),
  createdAt: at,
  updatedAt: at,
});

export const automationList = list(automation);

/** The create answer: the automation and its webhook secret, shown this once. */
export const createdAutomation = automation.extend({ webhookSecret: z.string() });

export const version = z.strictObject({
  version: z.number().int(),
  definition: definitionSchema,
  createdBy: id('usr').nullable(),
  createdAt: at,
  publishedAt: at.nullable(),
  publishedBy: id('usr').nullable(),
});

export const versionList = dataOnly(version);

export const webhookSecret = z.strictObject({ webhookSecret: z.string() });
