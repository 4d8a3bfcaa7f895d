// The kinds of event in the analytics stream (docs/analytics.md). Product
// events are written by the statement that records their fact; `cta.*`
// events come from a tenant's website through a publishable key.
export const PRODUCT_EVENT_TYPES = [
  'message.queued',
  'message.sent',
  'message.uncertain',
  'message.failed',
  'message.bounced',
  'message.replied',
  'message.opened',
  'message.clicked',
  'lead.created',
  'lead.stage_changed',
  'lead.tagged',
  'lead.unsubscribed',
  'conversation.opened',
  'conversation.closed',
  'campaign.completed',
  'automation.run_completed',
  'automation.run_failed',
] as const;

export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

/** A website's event: `cta.` and a name of lower-case letters, digits and underscores. */
export const CTA_TYPE = /^cta\.[a-z0-9_]{1,40}$/;

/** How large an event's properties may be, as JSON text. */
export const MAX_PROPERTIES_BYTES = 4096;

export function isEventType(value: string): boolean {
  return (PRODUCT_EVENT_TYPES as readonly string[]).includes(value) || CTA_TYPE.test(value);
}
