// The sealed signing secret of an automation, read by the activity that signs
// its webhook calls (docs/automations.md, "Webhook calls"). db/automations.ts
// owns the table; this module only reads the one column the worker needs.
import { type EntityManager } from 'typeorm';
import { type Sealed } from '../lib/encryption';

/** The automation's sealed `webhook_secret`, or undefined when it does not exist. */
export async function readAutomationSecret(m: EntityManager, automationId: string): Promise<Sealed | undefined> {
  const [row] = (await m.query('SELECT webhook_secret FROM automations WHERE id = $1', [automationId])) as { webhook_secret: Sealed }[];
  return row?.webhook_secret;
}
