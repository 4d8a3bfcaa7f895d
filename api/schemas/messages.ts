// Request schemas of the message routes.
import { z } from 'zod';

const idOf = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `not a ${prefix}_… id`);

/** A subject is one header line: no line breaks, and short enough for any mail client. */
const subject = z
  .string()
  .trim()
  .min(1, 'give a subject')
  .max(300, 'keep the subject under 300 characters')
  .refine((s) => !/[\r\n]/.test(s), 'a subject is one line');

export const sendMessageBody = z
  .object({
    conversationId: idOf('conv').optional().meta({ description: 'a reply in this conversation, from its inbox to its lead' }),
    leadId: idOf('lead').optional().meta({ description: 'a one-off message to this lead (with inboxId)' }),
    inboxId: idOf('inb').optional().meta({ description: 'the inbox a one-off message is sent from (with leadId)' }),
    subject: subject.optional().meta({ description: 'required for a one-off message; a reply defaults to "Re: " and the conversation\'s subject' }),
    text: z.string().trim().min(1, 'write a message').max(50_000, 'keep the message under 50,000 characters'),
  })
  .strict()
  .refine((b) => b.conversationId !== undefined || (b.leadId !== undefined && b.inboxId !== undefined), {
    message: 'give a conversationId, or a leadId and an inboxId',
    path: ['conversationId'],
  })
  .refine((b) => b.conversationId === undefined || (b.leadId === undefined && b.inboxId === undefined), {
    message: 'a reply goes to its conversation’s lead from its inbox: give a conversationId alone',
    path: ['conversationId'],
  })
  .refine((b) => b.conversationId !== undefined || b.subject !== undefined, { message: 'give a subject', path: ['subject'] });
