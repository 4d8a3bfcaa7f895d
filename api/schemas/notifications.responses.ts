// What the notification routes answer (api/routes/notifications.ts).
import { z } from 'zod';
import { at, id } from './common';

export const notification = z.strictObject({
  id: id('ntf'),
  title: z.string(),
  body: z.string(),
  /** A console path (a run's page), when the notification is about something. */
  link: z.string().nullable(),
  automationId: z.string().nullable(),
  runId: z.string().nullable(),
  createdAt: at,
  readAt: at.nullable(),
});

export const notificationList = z.strictObject({
  data: z.array(notification),
  nextCursor: z.string().nullable(),
  /** How many of the caller's notifications are unread, on every page. */
  unread: z.number().int().min(0),
});

export const markedAll = z.strictObject({ marked: z.number().int().min(0) });
