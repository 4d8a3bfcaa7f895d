// What the conversation routes answer. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, id, list } from './common';

export const conversation = z.strictObject({
  id: id('conv'),
  customerId: id('cust'),
  inboxId: id('inb'),
  inboxEmail: z.string().nullable(),
  lead: z.strictObject({ id: id('lead'), email: z.string(), firstName: z.string(), lastName: z.string() }),
  status: z.enum(['open', 'closed', 'snoozed']),
  snoozedUntil: at.nullable(),
  assigneeMemberId: id('mem').nullable(),
  unreadCount: z.number().int(),
  lastMessageAt: at,
  subject: z.string(),
  campaignIds: z.array(id('cmp')),
  createdAt: at,
  updatedAt: at,
});

export const conversations = list(conversation);

export const threadMessage = z.strictObject({
  id: id('msg'),
  direction: z.enum(['outbound', 'inbound']),
  origin: z.enum(['sequence', 'manual', 'automation']),
  status: z.string(),
  campaignId: id('cmp').nullable(),
  step: z.number().int().nullable(),
  subject: z.string(),
  body: z.string(),
  html: z.string().nullable().meta({ description: "an inbound mail's HTML as it came: untrusted, sanitize before showing it" }),
  error: z.string().nullable(),
  sentAt: at.nullable(),
  openedAt: at.nullable(),
  createdAt: at,
});

export const conversationThread = z.strictObject({ conversation, messages: list(threadMessage) });
