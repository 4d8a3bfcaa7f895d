// What the API's description of itself answers: its OpenAPI document and the
// permission registry. How these schemas are used: api/schemas/common.ts.
import { z } from 'zod';
import { dataOnly, record } from './common';

export const openApiDocument = z.looseObject({ openapi: z.string(), paths: record });
export const permissionList = dataOnly(z.strictObject({ key: z.string(), description: z.string() }));
