// Request schemas of the inbox routes.
import { z } from 'zod';

const host = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*|\[[0-9A-Fa-f:.]+\])$/, 'a host name or IP address');

const smtpSettings = z
  .object({
    host,
    port: z.number().int().min(1).max(65535),
    secure: z.boolean(),
    user: z.string().max(320).optional(),
    password: z.string().min(1).max(1000).optional(),
  })
  .strict();

/**
 * The inbox's own mailbox, read over IMAP (docs/providers.md, "IMAP"). The
 * password may be left out of a change that keeps the stored one.
 */
const imapSettings = z
  .object({
    host,
    port: z.number().int().min(1).max(65535),
    secure: z.boolean(),
    user: z.string().trim().min(1).max(320),
    password: z.string().min(1).max(1000).optional(),
  })
  .strict();

export const inboxBody = z
  .object({
    provider: z.enum(['smtp', 'smartlead']),
    fromEmail: z.string().trim().toLowerCase().email().max(320),
    fromName: z.string().trim().max(200).default(''),
    dailyCap: z.number().int().min(1).max(10_000),
    warmupEnabled: z.boolean().default(false),
    smtp: smtpSettings.optional(),
    imap: imapSettings.nullable().optional(),
  })
  .strict()
  .refine((b) => b.provider === 'smtp' || !b.imap, { message: 'only smtp inboxes take imap settings', path: ['imap'] })
  .refine((b) => !b.imap || b.imap.password, { message: 'give the mailbox password', path: ['imap', 'password'] })
  .refine((b) => b.provider !== 'smtp' || b.smtp, { message: 'an smtp inbox needs smtp settings', path: ['smtp'] })
  .refine((b) => b.provider === 'smtp' || !b.smtp, { message: 'only smtp inboxes take smtp settings', path: ['smtp'] });

export const inboxPatch = z
  .object({
    fromName: z.string().trim().max(200).optional(),
    dailyCap: z.number().int().min(1).max(10_000).optional(),
    warmupEnabled: z.boolean().optional(),
    smtp: smtpSettings.optional(),
    /** null clears them (and ends the mailbox reader). */
    imap: imapSettings.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field' });
