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
  error: z.string().nullable(),
  sentAt: at.nullable(),
  openedAt: at.nullable(),
  createdAt: at,
  fromEmail: z.string().nullable().describe("The sender's address of an inbound message"),
  html: z
    .string()
    .nullable()
    .describe("An inbound message's HTML exactly as received: UNTRUSTED (scripts, handlers, remote images); sanitize before rendering it"),
  autoReply: z.boolean().describe('An automatic reply (out of office and the like)'),
  attachments: z.array(
    z.strictObject({
      id: id('att'),
      filename: z.string().nullable(),
      contentType: z.string().describe('The type the sender declared (untrusted); downloads are always application/octet-stream'),
      size: z.number().int(),
      downloadable: z.boolean().describe('False when the attachment was over the size limit and only its metadata was kept'),
    }),
  ),
});

export const conversationThread = z.strictObject({ conversation, messages: list(threadMessage) });
