// The console's export forms ask for the last day included ("To"); the API's
// `to` is the first moment left out (docs/analytics.md, "Export").

/** The day after a YYYY-MM-DD date; anything else is passed on as it is, for the API to refuse in words. */
export function dayAfter(date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return date;
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
