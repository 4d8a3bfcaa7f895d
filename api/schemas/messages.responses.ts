// What the message routes answer. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, id } from './common';

export const messageAccepted = z.strictObject({
  id: id('msg'),
  conversationId: id('conv'),
  status: z.string(),
  queuedUntil: at.nullable(),
});

export const message = z.strictObject({
  id: id('msg'),
  conversationId: id('conv').nullable(),
  leadId: id('lead'),
  inboxId: id('inb').nullable(),
  direction: z.enum(['outbound', 'inbound']),
  origin: z.enum(['sequence', 'manual', 'automation']),
  status: z.string().meta({ description: 'queued, sending, accepted, uncertain, failed, render_error or received' }),
  queuedUntil: at.nullable().meta({ description: 'while queued: when the next attempt comes (the inbox’s next day, or the next usage period)' }),
  subject: z.string(),
  text: z.string(),
  error: z.string().nullable(),
  createdAt: at,
  sentAt: at.nullable(),
});
