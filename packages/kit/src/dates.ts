// Building an Intl.DateTimeFormat costs far more than formatting with one; a list of a branch's
// stock asks for "today" once per row.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (YYYY-MM-DD) at `at` in an IANA time zone: a branch's "today". */
export function dateInZone(timeZone: string, at: Date = new Date()): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}

/** `date` (YYYY-MM-DD) plus `days`, as YYYY-MM-DD; calendar arithmetic in UTC, so no DST effects. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
