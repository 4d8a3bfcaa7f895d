// What routes answer on success is declared as zod schemas, one file per
// feature beside its request schemas (api/schemas/<feature>.responses.ts);
// this file holds their building blocks: ids, timestamps and the list
// envelopes every paged answer shares. Route declarations name them
// (`response`), /api/openapi.json publishes them, and under test every real
// response is checked against its schema (`checkResponses`), so the document
// cannot drift from what the server sends. Objects are strict: a field the
// schema does not name fails the check.
import { z } from 'zod';

export const at = z.iso.datetime({ offset: true });
export const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`));
export const uuid = z.uuid();
const cursor = z.string().nullable();
export const list = <T extends z.ZodType>(item: T) => z.strictObject({ data: z.array(item), nextCursor: cursor });
export const dataOnly = <T extends z.ZodType>(item: T) => z.strictObject({ data: z.array(item) });
export const record = z.record(z.string(), z.unknown());
