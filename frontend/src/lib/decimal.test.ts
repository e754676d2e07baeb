import { describe, expect, it } from 'vitest';
import { addDecimal, compareDecimal, groupDigits, isPositiveAmount, money, roundDecimal, sumDecimals } from './decimal';

describe('exact decimals', () => {
  it('adds without float error', () => {
    expect(addDecimal('0.1', '0.2')).toBe('0.3');
    expect(addDecimal('0.27', '0.045')).toBe('0.315');
    expect(addDecimal('-18.00', '748.39')).toBe('730.39');
    expect(addDecimal('-0.5', '0.25')).toBe('-0.25');
    expect(sumDecimals(['10.80', '7.20', '251.61'])).toBe('269.61');
    expect(sumDecimals([])).toBe('0');
  });
  it('compares and checks amounts', () => {
    expect(compareDecimal('0.10', '0.1')).toBe(0);
    expect(compareDecimal('-1', '0')).toBe(-1);
    expect(isPositiveAmount('100.00')).toBe(true);
    expect(isPositiveAmount('0')).toBe(false);
    expect(isPositiveAmount('1.234')).toBe(false);
    expect(isPositiveAmount('1e3')).toBe(false);
  });
  it('rounds to a number of decimals, halves away from zero', () => {
    expect(roundDecimal('0.3333333333', 2)).toBe('0.33');
    expect(roundDecimal('2.005', 2)).toBe('2.01');
    expect(roundDecimal('-2.005', 2)).toBe('-2.01');
    expect(roundDecimal('0.0015', 2)).toBe('0.00');
    expect(roundDecimal('3', 2)).toBe('3.00');
    expect(roundDecimal('9.999', 2)).toBe('10.00');
  });
  it('shows the digits the API gave, grouped', () => {
    expect(groupDigits('1234567.50')).toBe('1,234,567.50');
    expect(money('-51.61', 'CNY')).toBe('-51.61 CNY');
  });
});
