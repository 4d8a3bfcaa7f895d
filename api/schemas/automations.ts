// Request schemas of the automation routes. A definition is
// lib/automations.ts's `definitionSchema`, so the OpenAPI document publishes
// exactly what the server checks.
import { z } from 'zod';
import { definitionSchema } from '../../lib/automations';
import { INT4_MAX } from '../pagination';

const name = z.string().trim().min(1).max(200);

export const automationBody = z
  .object({
    name,
    /** The customer the automation belongs to; left out (or null): the whole tenant (a restricted member's own customer). */
    customerId: z
      .string()
      .regex(/^cust_[0-9a-z]{26}$/, 'must be a customer id (cust_…)')
      .nullable()
      .optional(),
    definition: definitionSchema,
  })
  .strict();

export const automationPatch = z.object({ name }).strict();

export const versionBody = z.object({ definition: definitionSchema }).strict();

export const publishBody = z.object({ version: z.number().int().min(1).max(INT4_MAX) }).strict();
