// Request schemas of website events (docs/analytics.md, "Website events"):
// publishable keys and the CTA batch a website sends with one.
import { z } from 'zod';
import { CTA_TYPE, MAX_PROPERTIES_BYTES } from '../../lib/analyticsEvents';
import { hasLoneSurrogateWithin, jsonbTextBytes } from '../../lib/jsonbText';

/** At most this many events in one request. */
export const MAX_CTA_BATCH = 100;

/** An allowed origin exactly as a browser sends it: scheme://host[:port], nothing after. */
const origin = z
  .string()
  .max(200)
  .refine(
    (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s;
      } catch {
        return false;
      }
    },
    { message: 'must be an origin like https://www.example.com (scheme, host and port only, in lower case, no path or trailing slash)' },
  );

export const publishableKeyCreate = z
  .object({
    name: z.string().trim().min(1).max(100),
    customerId: z.string().regex(/^cust_[0-9a-z]{26}$/, 'must be a customer id (cust_…)'),
    allowedOrigins: z.array(origin).min(1, 'give at least one origin').max(20),
  })
  .strict();

const properties = z
  .record(z.string(), z.unknown())
  .refine((p) => !hasLoneSurrogateWithin(p), { message: 'holds text that is not valid Unicode (a lone surrogate)' })
  .refine((p) => (jsonbTextBytes(p) ?? Infinity) <= MAX_PROPERTIES_BYTES, { message: `must be at most ${MAX_PROPERTIES_BYTES} bytes as JSON` });

export const ctaEvent = z
  .object({
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only (e.g. a UUID)'),
    type: z.string().regex(CTA_TYPE, 'must be cta.<name>: lower-case letters, digits and _ (1–40) after "cta."'),
    surface: z.string().min(1).max(100),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    properties: properties.optional(),
  })
  .strict();

export const ctaBatch = z
  .object({
    events: z.array(ctaEvent).min(1).max(MAX_CTA_BATCH),
  })
  .strict();

export type CtaEvent = z.infer<typeof ctaEvent>;
