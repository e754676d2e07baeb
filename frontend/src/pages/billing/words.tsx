// How the billing pages write CU-hours and the management fee.
import { compareDecimal, groupDigits, roundDecimal } from '../../lib/decimal';

/**
 * CU-hours as people read them: two decimals. The API's figure is exact to ten
 * decimals (a millisecond of a milli-CU), more than anyone reads; a little usage that
 * rounds to nothing is "< 0.01", not 0.
 */
export function cuHoursText(exact: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(exact)) return exact;
  const shown = roundDecimal(exact, 2);
  if (compareDecimal(shown, '0') === 0 && compareDecimal(exact, '0') !== 0) return '< 0.01';
  return groupDigits(shown);
}

/** CU-hours at two decimals, the exact figure on hover when it differs. */
export function CuHours({ value }: { value: string }) {
  const shown = cuHoursText(value);
  const exact = shown !== value && (shown === '< 0.01' || compareDecimal(roundDecimal(value, 2), value) !== 0);
  return (
    <span className="cu-hours" title={exact ? `${value} CU-hours exactly` : undefined}>
      {shown}
    </span>
  );
}

/**
 * The management fee in words, by the server's rule (`every_hour` or
 * `hours_with_usage`, as GET /account/billing says; unknown while it loads); `fee` is
 * its amount an hour (2 CU at the price) when known.
 */
export function managementFeeWords(rule?: string, fee?: string): string {
  const amount = fee ? `${fee} (2 CU × the CU-hour price)` : '2 CU × the CU-hour price';
  if (rule === 'hours_with_usage') {
    return (
      `Management fee: a fixed ${amount} for each hour in which a pay-as-you-go project runs anything, whatever the size ` +
      'of what runs (the workspace’s share of the engine). An hour in which nothing runs costs nothing.'
    );
  }
  if (rule === 'every_hour') {
    return (
      `Management fee: a fixed ${amount} for each hour of a pay-as-you-go project, whether anything runs or not (the ` +
      'workspace’s share of the engine).'
    );
  }
  return `Management fee: a fixed ${amount} an hour for each pay-as-you-go project (the workspace’s share of the engine).`;
}
