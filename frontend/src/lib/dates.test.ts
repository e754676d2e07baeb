import { describe, expect, it } from 'vitest';
import {
  DAY,
  HOUR,
  calendarDay,
  epochSeconds,
  formatClock,
  formatDate,
  formatDuration,
  formatMonth,
  formatNumericDate,
  formatNumericTime,
  formatTime,
  isoAgo,
  lastDays,
  localInputToIso,
  msUntil,
  toLocalInput,
} from './dates';

// Every case names its zone and locale: the machine running the tests may be anywhere.
const shanghai = { timeZone: 'Asia/Shanghai', locale: 'en-US' };
const utc = { timeZone: 'UTC', locale: 'en-US' };
// ICU puts a narrow no-break space before AM/PM; compare as plain spaces.
const plain = (s: string) => s.replace(/\s/g, ' ');

describe('formatting instants', () => {
  it('shows an instant in the zone asked for', () => {
    expect(plain(formatTime('2026-12-01T00:00:00Z', shanghai))).toBe('Dec 1, 2026, 8:00:00 AM');
    expect(plain(formatTime('2026-12-01T00:00:00Z', utc))).toBe('Dec 1, 2026, 12:00:00 AM');
    expect(formatTime(null, utc)).toBe('—');
    expect(formatTime('', utc)).toBe('—');
  });

  it('shows dates, numeric forms, times of day and months', () => {
    // 20:00 UTC on Nov 30 is already Dec 1 in Shanghai.
    expect(formatDate('2026-11-30T20:00:00Z', shanghai)).toBe('Dec 1, 2026');
    expect(formatDate('2026-11-30T20:00:00Z', utc)).toBe('Nov 30, 2026');
    expect(formatNumericDate('2026-11-30T20:00:00Z', shanghai)).toBe('12/1/2026');
    expect(plain(formatNumericTime('2026-12-01T00:00:00Z', shanghai))).toBe('12/1/2026, 8:00:00 AM');
    expect(plain(formatClock('2026-12-01T13:05:00Z', shanghai))).toBe('9:05 PM');
    // A bill cut in Shanghai starts at its midnight, 16:00 UTC the day before.
    expect(formatMonth('2026-11-30T16:00:00Z', shanghai)).toBe('December 2026');
    expect(formatMonth('2026-11-30T16:00:00Z', utc)).toBe('November 2026');
  });

  it('takes the calendar day as written', () => {
    expect(calendarDay('2026-12-01T23:30:00-08:00')).toBe('2026-12-01');
    expect(calendarDay('2027-06-30')).toBe('2027-06-30');
  });

  it('says lengths of time in their largest whole unit', () => {
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(7200)).toBe('2 h');
    expect(formatDuration(172_800)).toBe('2 d');
    expect(formatDuration(90)).toBe('1 min 30 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(0)).toBe('');
  });
});

describe('instants and periods', () => {
  const now = Date.parse('2026-12-01T10:20:00Z');

  it('measures from now', () => {
    expect(epochSeconds('2026-12-01T00:00:00Z')).toBe(1_796_083_200);
    expect(msUntil('2026-12-01T11:20:00Z', now)).toBe(HOUR);
    expect(msUntil('2026-11-30T10:20:00Z', now)).toBe(-DAY);
    expect(isoAgo(HOUR, now)).toBe('2026-12-01T09:20:00.000Z');
  });

  it('ends a range of days after the hour running now', () => {
    expect(lastDays(2, now)).toEqual({ from: '2026-11-29T12:00:00.000Z', to: '2026-12-01T12:00:00.000Z' });
    expect(lastDays(1, Date.parse('2026-12-01T10:00:00Z'))).toEqual({ from: '2026-11-30T11:00:00.000Z', to: '2026-12-01T11:00:00.000Z' });
  });
});

describe('datetime-local values', () => {
  it('reads wall-clock time in the zone asked for', () => {
    expect(localInputToIso('2026-12-02T06:00', 'Asia/Shanghai')).toBe('2026-12-01T22:00:00.000Z');
    expect(localInputToIso('2026-12-02T06:00', 'UTC')).toBe('2026-12-02T06:00:00.000Z');
    expect(localInputToIso('2026-07-01T12:00:30', 'Europe/Berlin')).toBe('2026-07-01T10:00:30.000Z');
    expect(localInputToIso('', 'UTC')).toBeUndefined();
    expect(localInputToIso('tomorrow', 'UTC')).toBeUndefined();
  });

  it('reads a skipped time past the gap and a repeated time as the earlier one', () => {
    // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist; 03:30 EDT.
    expect(localInputToIso('2026-03-08T02:30', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
    // It falls back at 02:00 on 2026-11-01: 01:30 happens twice; the first is EDT.
    expect(localInputToIso('2026-11-01T01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('writes an instant as wall-clock time, and reads it back', () => {
    expect(toLocalInput('2026-12-01T22:30:00Z', 'Asia/Shanghai')).toBe('2026-12-02T06:30');
    expect(toLocalInput(Date.parse('2026-12-01T00:05:00Z'), 'UTC')).toBe('2026-12-01T00:05');
    expect(toLocalInput(new Date('2026-07-01T10:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01T12:00');
    expect(localInputToIso(toLocalInput('2026-12-01T22:30:00Z', 'America/New_York'), 'America/New_York')).toBe('2026-12-01T22:30:00.000Z');
  });
});
