// Inbound mail into conversations (docs/architecture.md, "Conversations"):
// each mail read from an inbox's mailbox is threaded, stored once and, when
// it answers an enrollment, ends that enrollment exactly as a provider's
// reply or bounce event does. Runs in the caller's tenant transaction, so
// the reader's checkpoint commits with the mail it covers.
import { type EntityManager } from 'typeorm';
import { type InboundMail } from '../lib/inboundMail';

/** Where a batch of mail was read: the inbox and the mailbox's UIDVALIDITY (the fallback key of a mail without a Message-ID). */
export interface InboundSource {
  inboxId: string;
  uidValidity: string;
}

/** An enrollment a stored mail ended; its row is already written, the workflow is told by the caller. */
export interface EnrollmentStop {
  enrollmentId: string;
  campaignId: string;
  leadId: string;
  outcome: 'replied' | 'bounced';
}

export interface StoreInboundResult {
  /** Mail stored now (a mail stored before is not counted again). */
  stored: number;
  /** Mail that threads to nothing and comes from no known lead, and mail stored before. */
  ignored: number;
  /** Enrollments the batch ended, for their workflows' signals. */
  stops: EnrollmentStop[];
}

/**
 * Threads and stores a batch of mail read from `source`, in the caller's
 * transaction inside its tenant (withTenant).
 */
export async function storeInboundMail(m: EntityManager, tenantId: string, source: InboundSource, mails: InboundMail[]): Promise<StoreInboundResult> {
  void m;
  void tenantId;
  void source;
  void mails;
  throw new Error('storeInboundMail is not built yet');
}
