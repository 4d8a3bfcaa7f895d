// Attachments of inbound messages: the metadata of each, and its bytes when
// they fit the size limit (docs/architecture.md, "Conversations"). They are
// written with their message (db/inboundMail.ts); here they are read for a
// conversation's thread and for a download.
import { type EntityManager } from 'typeorm';

export interface AttachmentRow {
  id: string;
  message_id: string;
  filename: string | null;
  content_type: string;
  size: number;
  /** False when the bytes were over the limit and only the metadata was kept. */
  downloadable: boolean;
}

/** The attachments of these messages, in the order they came. */
export async function listMessageAttachments(m: EntityManager, messageIds: string[]): Promise<AttachmentRow[]> {
  if (messageIds.length === 0) return [];
  return (await m.query(
    `SELECT id, message_id, filename, content_type, size, content IS NOT NULL AS downloadable
       FROM message_attachments WHERE message_id = ANY($1) ORDER BY id`,
    [messageIds],
  )) as AttachmentRow[];
}

export interface AttachmentContentRow {
  filename: string | null;
  content_type: string;
  size: number;
  content: Buffer | null;
}

/** One attachment of a message of this conversation of this customer, with its bytes (null when they were not kept). */
export async function findConversationAttachment(
  m: EntityManager,
  customerId: string,
  conversationId: string,
  attachmentId: string,
): Promise<AttachmentContentRow | undefined> {
  const [row] = (await m.query(
    `SELECT a.filename, a.content_type, a.size, a.content
       FROM message_attachments a JOIN messages x ON x.id = a.message_id
      WHERE a.id = $1 AND a.customer_id = $2 AND x.customer_id = $2 AND x.conversation_id = $3`,
    [attachmentId, customerId, conversationId],
  )) as AttachmentContentRow[];
  return row;
}
