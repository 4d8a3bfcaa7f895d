// Request schemas of the conversation routes.
import { z } from 'zod';
import { at } from './common';
import { listQuery } from '../pagination';

const idOf = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `not a ${prefix}_… id`);

export const conversationStatus = z.enum(['open', 'closed', 'snoozed']);

export const conversationListQuery = listQuery
  .extend({
    status: conversationStatus.optional(),
    unread: z.enum(['true', 'false']).optional().meta({ description: 'true: only conversations with unread messages; false: only read ones' }),
    inboxId: idOf('inb').optional(),
    campaignId: idOf('cmp').optional(),
    assignee: z
      .union([idOf('mem'), z.literal('none')])
      .optional()
      .meta({ description: 'a member id, or none for conversations nobody is assigned to' }),
    sort: z
      .enum(['latest', 'unread'])
      .optional()
      .meta({ description: 'latest (the default): latest message first; unread: conversations with unread messages first, then latest message first' }),
  })
  .strict();

export const conversationBody = z
  .object({
    status: conversationStatus.optional(),
    snoozedUntil: at.nullable().optional().meta({ description: 'when a snoozed conversation opens again; required with status snoozed' }),
    assigneeMemberId: idOf('mem').nullable().optional(),
    read: z.literal(true).optional().meta({ description: 'true marks every message read' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field' })
  .refine((b) => b.status !== 'snoozed' || typeof b.snoozedUntil === 'string', { message: 'say until when to snooze', path: ['snoozedUntil'] })
  .refine((b) => b.snoozedUntil == null || b.status === undefined || b.status === 'snoozed', {
    message: 'only a snoozed conversation has a snooze time',
    path: ['snoozedUntil'],
  })
  .refine((b) => b.snoozedUntil == null || Date.parse(b.snoozedUntil) > Date.now(), { message: 'choose a time in the future', path: ['snoozedUntil'] });
