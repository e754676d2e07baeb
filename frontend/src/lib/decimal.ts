// Exact decimal text, as the API sends money and CU-hours ("12.34", "-0.045"). Sums
// and comparisons are done on integers scaled by the longest fraction, never on floats,
// so what the console shows adds up to what the bill says.

function parse(s: string): { int: bigint; scale: number } {
  const t = s.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a decimal: ${s}`);
  const frac = m[3] ?? '';
  const digits = (m[2] || '0') + frac;
  const v = BigInt(digits);
  return { int: m[1] === '-' ? -v : v, scale: frac.length };
}

function rescale(v: { int: bigint; scale: number }, scale: number): bigint {
  return v.int * 10n ** BigInt(scale - v.scale);
}

function format(int: bigint, scale: number): string {
  const neg = int < 0n;
  const abs = (neg ? -int : int).toString().padStart(scale + 1, '0');
  const whole = abs.slice(0, abs.length - scale);
  const frac = scale > 0 ? '.' + abs.slice(abs.length - scale) : '';
  return (neg ? '-' : '') + whole + frac;
}

/** a + b, exactly, keeping the longer fraction: add("0.27", "0.045") = "0.315". */
export function addDecimal(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return format(rescale(x, scale) + rescale(y, scale), scale);
}

export function sumDecimals(values: string[], zero = '0'): string {
  return values.reduce((s, v) => addDecimal(s, v), zero);
}

/**
 * `a` to `places` decimals, halves away from zero, exactly: ("0.3333333333", 2) = "0.33",
 * ("2.005", 2) = "2.01", ("3", 2) = "3.00".
 */
export function roundDecimal(a: string, places: number): string {
  const x = parse(a);
  if (x.scale <= places) return format(rescale(x, places), places);
  const unit = 10n ** BigInt(x.scale - places);
  const abs = x.int < 0n ? -x.int : x.int;
  const rounded = (abs + unit / 2n) / unit;
  return format(x.int < 0n ? -rounded : rounded, places);
}

/** -1, 0 or 1. */
export function compareDecimal(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function isNegative(a: string): boolean {
  return compareDecimal(a, '0') < 0;
}

/** True for text the API would take as a positive amount in major units ("100", "100.00"). */
export function isPositiveAmount(s: string): boolean {
  if (!/^\d+(\.\d{1,2})?$/.test(s.trim())) return false;
  return compareDecimal(s, '0') > 0;
}

/** "1234567.5" -> "1,234,567.5": digit grouping only; the digits stay the API's. */
export function groupDigits(s: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s.trim());
  if (!m) return s;
  return (m[1] ?? '') + (m[2] ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] ?? '');
}

/** An amount with its currency, exactly as given: "1,000.00 CNY". */
export function money(amount: string, currency: string): string {
  return `${groupDigits(amount)} ${currency}`;
}
