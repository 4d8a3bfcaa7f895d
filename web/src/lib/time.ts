// Times as a member reads them. The server renders in UTC (it does not know
// the member's zone) and says so; once the page runs in the browser the same
// instant is shown in the member's own zone and locale.
export function formatTime(iso: string | Date, inBrowser: boolean, locale?: string): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return String(iso);
  const opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };
  if (inBrowser) return d.toLocaleString(locale, opts);
  return `${d.toLocaleString(locale ?? 'en-GB', { ...opts, timeZone: 'UTC' })} UTC`;
}
