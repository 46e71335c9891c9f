// Dates and times as people type them, read strictly: a day that the calendar does not have
// (2026-02-30, 2026-13-01) or a time that the clock does not show (24:00, 10:61) is refused,
// never rolled over into the next month or day as Date.parse does. A time needs its zone
// (Z or an offset such as +01:00): without one it would mean the server's local time.

export type MomentResult = { readonly ok: true; readonly ms: number; readonly dayOnly: boolean } | { readonly ok: false; readonly why?: string };

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Why year-month-day is not a day of the calendar, or null when it is one. */
function badDay(year: number, month: number, day: number): string | null {
  if (month < 1 || month > 12) return `there is no month ${month}: months go from 01 to 12`;
  const n = daysIn(year, month);
  if (day < 1 || day > n) return `${MONTHS[month - 1]} ${year} has ${n} days`;
  return null;
}

/**
 * Reads `2026-12-01` (the start of that day, UTC; `dayOnly` says so) or an ISO time with a zone:
 * `2026-12-01T18:00Z`, `2026-12-01T18:00:30.5+01:00`. Years 0000 to 9999.
 */
export function parseMoment(text: string): MomentResult {
  const d = DAY.exec(text);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const why = badDay(y, m, day);
    if (why) return { ok: false, why };
    return { ok: true, ms: utc(y, m, day, 0, 0, 0, 0), dayOnly: true };
  }
  const t = TIME.exec(text);
  if (!t) return { ok: false };
  const [y, m, day, hh, mm] = [Number(t[1]), Number(t[2]), Number(t[3]), Number(t[4]), Number(t[5])];
  const ss = t[6] === undefined ? 0 : Number(t[6]);
  const ms = t[7] === undefined ? 0 : Number(t[7].padEnd(3, "0"));
  const why = badDay(y, m, day);
  if (why) return { ok: false, why };
  if (hh > 23 || mm > 59 || ss > 59)
    return {
      ok: false,
      why: `${t[4]}:${t[5]}${t[6] === undefined ? "" : `:${t[6]}`} is not a time of day: hours go from 00 to 23, minutes and seconds from 00 to 59`,
    };
  if (t[8] === undefined) return { ok: false, why: "a time needs its zone: Z for UTC, or an offset such as +01:00" };
  let offsetMin = 0;
  if (t[8].toUpperCase() !== "Z") {
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(t[8])!;
    const [oh, om] = [Number(o[2]), Number(o[3])];
    if (oh > 14 || om > 59) return { ok: false, why: `${t[8]} is not an offset: they go from -14:00 to +14:00` };
    offsetMin = (o[1] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return { ok: true, ms: utc(y, m, day, hh, mm, ss, ms) - offsetMin * 60_000, dayOnly: false };
}

/** Date.UTC without its two-digit-year quirk (years 0-99 would be read as 1900-1999). */
function utc(y: number, m: number, d: number, hh: number, mm: number, ss: number, ms: number): number {
  const date = new Date(Date.UTC(2000, m - 1, d, hh, mm, ss, ms));
  date.setUTCFullYear(y);
  return date.getTime();
}
