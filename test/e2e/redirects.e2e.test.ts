// Every URL the console had before spaces answers 308 to its new place, with
// the rest of the path and the query kept (docs/console.md, "Old URLs"). The
// list is written out here on purpose, not read from lib/spaces.ts: it is
// what bookmarks and old links out in the world point at.
import { env } from './browser';

const OLD_TO_NEW: readonly (readonly [string, string])[] = [
  ['/customers', '/client/customers'],
  ['/campaigns', '/client/campaigns'],
  ['/campaigns/cmp_0190f0c0aa7b7cc0b1a2b3c4d5e6f708', '/client/campaigns/cmp_0190f0c0aa7b7cc0b1a2b3c4d5e6f708'],
  ['/sequences', '/client/sequences'],
  ['/sequences/seq_0190f0c0aa7b7cc0b1a2b3c4d5e6f708', '/client/sequences/seq_0190f0c0aa7b7cc0b1a2b3c4d5e6f708'],
  ['/inboxes', '/provider/inboxes'],
  ['/outbox', '/provider/outbox'],
  ['/members', '/provider/members'],
  ['/roles', '/provider/roles'],
  ['/billing', '/accounting/billing'],
  ['/billing/local-checkout', '/accounting/billing/local-checkout'],
  ['/client-billing', '/accounting/client-billing'],
  ['/client-billing/local-onboarding', '/accounting/client-billing/local-onboarding'],
  ['/client-billing/local-checkout', '/accounting/client-billing/local-checkout'],
];

const get = (url: string) => fetch(`${env('TF_E2E_CONSOLE_URL')}${url}`, { redirect: 'manual' });

it.each(OLD_TO_NEW)('%s answers 308 to %s', async (from, to) => {
  const res = await get(from);
  expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 308, location: to });
});

it.each(OLD_TO_NEW)('%s keeps its query string on the way to %s', async (from, to) => {
  const query = '?customer=cust_0190f0c0aa7b7cc0b1a2b3c4d5e6f708&session=cs_local_1&q=a%20b';
  const res = await get(from + query);
  expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 308, location: to + query });
});

it('answers 308 to a form post on an old action URL, so the browser repeats the post at the new place', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const res = await fetch(`${base}/customers?/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(base).origin },
    body: 'name=Kept',
    redirect: 'manual',
  });
  expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 308, location: '/client/customers?/create' });
});

it('leaves the current URLs alone', async () => {
  for (const [, to] of OLD_TO_NEW) expect((await get(to)).status).not.toBe(308);
});
