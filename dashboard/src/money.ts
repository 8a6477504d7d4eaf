/**
 * Money arrives as decimal strings in ZMW ("12.50"): totals are summed in integer ngwee (BigInt),
 * never as floats, and printed back with two decimals.
 */
export function toNgwee(amount: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d{1,2})\d*)?$/.exec(amount.trim());
  if (!m) throw new Error(`not a money amount: ${amount}`);
  const ngwee = BigInt(m[2] ?? '0') * 100n + BigInt((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -ngwee : ngwee;
}

export function formatNgwee(ngwee: bigint): string {
  const negative = ngwee < 0n;
  const abs = negative ? -ngwee : ngwee;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${whole}.${(abs % 100n).toString().padStart(2, '0')}`;
}
