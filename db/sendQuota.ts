// The monthly send quota, taken in the same transaction as the inbox's
// daily-cap slot: the tenant's billing account row is locked, so two workers
// can never both take the last send of a period. A send is paid by the plan's
// monthly allowance first, then by credits (which do not expire); with neither
// — or while the tenant is restricted — the enrollment waits.
import { type EntityManager } from 'typeorm';

/** Makes sure the tenant (of the transaction's context) has an account row, and locks it. */
export async function lockBillingAccount(m: EntityManager): Promise<void> {
  // Every send comes here: lock the row that nearly always exists, and write only when it does not.
  const locked = (await m.query('SELECT 1 FROM billing_accounts FOR UPDATE')) as unknown[];
  if (locked.length > 0) return;
  await m.query("INSERT INTO billing_accounts (tenant_id) VALUES (current_setting('app.tenant_id')::uuid) ON CONFLICT DO NOTHING");
  await m.query('SELECT 1 FROM billing_accounts FOR UPDATE');
}

export interface AccountUsage {
  restricted: boolean;
  credit_balance: number;
  period_start: Date | null;
  period_end: Date | null;
  usage_period_start: Date | null;
  period_sends: number;
}

/** The usage period at `at`: the subscription's current period, else the calendar month (UTC). */
export function usagePeriod(a: Pick<AccountUsage, 'period_start' | 'period_end'>, at: number): { start: number; end: number } {
  const ps = a.period_start?.getTime();
  const pe = a.period_end?.getTime();
  if (ps !== undefined && pe !== undefined && ps <= at && at < pe) return { start: ps, end: pe };
  const d = new Date(at);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

export type Allowance =
  | {
      granted: true;
      paidBy: 'plan' | 'credit' | 'unmetered';
      /** What booking the send writes on the account: `bookingUpdate`'s three parameters. */
      booking: [periodStart: Date, periodSends: number, creditsUsed: number];
    }
  | { granted: false; waitingFor: 'quota' | 'restricted'; retryAt: number | null };

/**
 * The account's booking of one granted send (`Allowance.booking`), with its
 * parameters numbered from `$first`: a statement of its own, or a CTE of the
 * statement that takes the send's slot (one round trip fewer while the
 * account is locked). Book only once the slot is taken: a full inbox must not
 * use up the quota.
 */
export const bookingUpdate = (first: number) =>
  `UPDATE billing_accounts SET usage_period_start = $${first}, period_sends = $${first + 1}, credit_balance = credit_balance - $${first + 2}, updated_at = now()`;

/**
 * Decides, under the account lock, whether one more send is allowed at `at`
 * and who pays for it; `booking` is what `bookingUpdate` then writes. The lock
 * is held until the transaction ends, so it serialises every send of the
 * tenant: keep what follows it in the transaction to few round trips.
 */
export async function takeSendAllowance(m: EntityManager, at: number): Promise<Allowance> {
  // The lock, the account's usage and the plan's limit in one statement (every
  // send comes here); an account row is created only when there is none.
  const read = () =>
    m.query(
      `SELECT b.restricted, b.credit_balance, b.period_start, b.period_end, b.usage_period_start, b.period_sends,
              e.enabled AS limit_enabled, e.limit_value, e.key IS NOT NULL AS has_limit
         FROM billing_accounts b LEFT JOIN entitlements e ON e.key = 'monthly_sends'
          FOR UPDATE OF b`,
    ) as Promise<(AccountUsage & { limit_enabled: boolean | null; limit_value: number | null; has_limit: boolean })[]>;
  let [a] = await read();
  if (!a) {
    await lockBillingAccount(m);
    [a] = await read();
  }
  if (a!.restricted) return { granted: false, waitingFor: 'restricted', retryAt: null };
  const period = usagePeriod(a!, at);
  const used = a!.usage_period_start?.getTime() === period.start ? a!.period_sends : 0;
  // No monthly_sends entitlement: unmetered; a disabled one: none.
  const max = a!.has_limit ? (a!.limit_enabled ? a!.limit_value : 0) : null;
  const paidBy = max === null ? 'unmetered' : used < max ? 'plan' : a!.credit_balance > 0 ? 'credit' : undefined;
  if (!paidBy) return { granted: false, waitingFor: 'quota', retryAt: period.end };
  return { granted: true, paidBy, booking: [new Date(period.start), used + (paidBy === 'credit' ? 0 : 1), paidBy === 'credit' ? 1 : 0] };
}
