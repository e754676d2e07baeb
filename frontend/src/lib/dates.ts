// Dates and times, in one place. The API speaks RFC 3339 instants; the console shows
// them in the reader's locale and time zone, and reads what they type into
// datetime-local inputs as wall-clock time in their zone.
//
// Every formatter takes an optional `at` ({ timeZone, locale }): pages leave it out (the
// browser's zone and locale), tests pass both so they read the same on any machine.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface At {
  /** An IANA zone ("Asia/Shanghai", "UTC"); the browser's when left out. */
  timeZone?: string;
  /** A BCP 47 locale ("en-US"); the browser's when left out. */
  locale?: string;
}

function fmt(iso: string, options: Intl.DateTimeFormatOptions, at: At): string {
  return new Date(iso).toLocaleString(at.locale, { ...options, timeZone: at.timeZone ?? options.timeZone });
}

/** An instant as date and time ("Dec 1, 2026, 8:00:00 AM"); "—" when there is none. */
export function formatTime(iso: string | null | undefined, at: At = {}): string {
  if (!iso) return '—';
  return fmt(iso, { dateStyle: 'medium', timeStyle: 'medium' }, at);
}

/** The date of an instant ("Dec 1, 2026"). */
export function formatDate(iso: string, at: At = {}): string {
  return fmt(iso, { dateStyle: 'medium' }, at);
}

/** The date of an instant in the locale's numeric form ("12/1/2026"). */
export function formatNumericDate(iso: string, at: At = {}): string {
  return fmt(iso, { year: 'numeric', month: 'numeric', day: 'numeric' }, at);
}

/** An instant in the locale's numeric form ("12/1/2026, 8:00:00 AM"). */
export function formatNumericTime(iso: string, at: At = {}): string {
  return fmt(iso, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }, at);
}

/** The time of day of an instant ("8:00 AM"). */
export function formatClock(iso: string, at: At = {}): string {
  return fmt(iso, { timeStyle: 'short' }, at);
}

/** The month an instant falls in ("December 2026"), e.g. a bill's month in its billing zone. */
export function formatMonth(iso: string, at: At = {}): string {
  return fmt(iso, { year: 'numeric', month: 'long' }, at);
}

/** The calendar day an RFC 3339 text names, as written ("2026-12-01"), whatever the reader's zone. */
export function calendarDay(iso: string): string {
  return iso.slice(0, 10);
}

/** "600" -> "10 min": a length of time in seconds, in the largest whole unit. */
export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs) || secs <= 0) return '';
  if (secs % 86_400 === 0) return `${secs / 86_400} d`;
  if (secs % 3600 === 0) return `${secs / 3600} h`;
  if (secs % 60 === 0) return `${secs / 60} min`;
  if (secs > 60) return `${Math.floor(secs / 60)} min ${secs % 60} s`;
  return `${secs} s`;
}

/** Seconds since the epoch (what charts plot on their time axis). */
export function epochSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** Milliseconds from `now` until an instant: negative once it has passed. */
export function msUntil(iso: string, now: number = Date.now()): number {
  return Date.parse(iso) - now;
}

/** The instant `ms` before `now`, as RFC 3339. */
export function isoAgo(ms: number, now: number = Date.now()): string {
  return new Date(now - ms).toISOString();
}

/** The last `days` days, ending at the top of the hour after next (so the hour running now is in), as the API's RFC 3339 range. */
export function lastDays(days: number, now: number = Date.now()): { from: string; to: string } {
  const to = Math.ceil(now / HOUR) * HOUR + HOUR;
  return { from: new Date(to - days * DAY).toISOString(), to: new Date(to).toISOString() };
}

/** The zone the browser reads wall-clock times in ("Europe/Berlin"). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// Wall-clock fields of an instant in a zone, read with Intl (no other way to ask for
// an arbitrary zone).
const wallFormats = new Map<string, Intl.DateTimeFormat>();
function wall(t: number, timeZone: string | undefined) {
  const key = timeZone ?? '';
  let f = wallFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormats.set(key, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(t)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** How far a zone's wall clock is ahead of UTC at instant `t`, in ms. */
function offsetAt(t: number, timeZone: string | undefined): number {
  const w = wall(t, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * A datetime-local value ("2026-12-02T06:00"), wall-clock time in `timeZone` (the
 * browser's when left out), as RFC 3339; undefined when empty or not a time. A time the
 * clock skips (spring forward) moves on by the gap, and a time it shows twice (fall back)
 * is the earlier instant: as the browser itself reads them.
 */
export function localInputToIso(value: string, timeZone?: string): string | undefined {
  const m = LOCAL_INPUT.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(asUtc)) return undefined;
  // The offset is one of those in force a day either side; take each that reads back.
  const before = offsetAt(asUtc - DAY, timeZone);
  const after = offsetAt(asUtc + DAY, timeZone);
  const fits = [before, after].map((o) => asUtc - o).filter((t) => offsetAt(t, timeZone) === asUtc - t);
  const t = fits.length ? Math.min(...fits) : asUtc - before;
  return new Date(t).toISOString();
}

/** An instant as a datetime-local value ("2026-12-02T06:00") in `timeZone` (the browser's when left out). */
export function toLocalInput(at: Date | number | string, timeZone?: string): string {
  const w = wall(new Date(at).getTime(), timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}
