const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * `yyyyMMddHHmmss` in a fixed offset from UTC. The VSDC speaks the local time of the business
 * (Zambia: UTC+2, no daylight saving) in this compact form, never ISO 8601.
 */
export function compactDateTime(date: Date, offsetMinutes: number): string {
  const d = new Date(date.getTime() + offsetMinutes * 60_000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** True for a real calendar date written `yyyyMMdd`. */
export function isCompactDate(value: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** True for a real date and time written `yyyyMMddHHmmss`. */
export function isCompactDateTime(value: string): boolean {
  const m = /^(\d{8})(\d{2})(\d{2})(\d{2})$/.exec(value);
  return !!m && isCompactDate(m[1]!) && Number(m[2]) < 24 && Number(m[3]) < 60 && Number(m[4]) < 60;
}
