/**
 * Timestamps for proxy log lines in the `logTimeFormat` llama-swap users
 * already write: a Go time-layout name (`rfc3339`, `kitchen`, ...) or a Go
 * layout string itself, rendered in local time like Go's `time.Now()`.
 */

/** Go's named layouts, keyed by the lower-case names llama-swap accepts. */
const NAMED: Record<string, string> = {
  ansic: "Mon Jan _2 15:04:05 2006",
  unixdate: "Mon Jan _2 15:04:05 MST 2006",
  rubydate: "Mon Jan 02 15:04:05 -0700 2006",
  rfc822: "02 Jan 06 15:04 MST",
  rfc822z: "02 Jan 06 15:04 -0700",
  rfc850: "Monday, 02-Jan-06 15:04:05 MST",
  rfc1123: "Mon, 02 Jan 2006 15:04:05 MST",
  rfc1123z: "Mon, 02 Jan 2006 15:04:05 -0700",
  rfc3339: "2006-01-02T15:04:05Z07:00",
  rfc3339nano: "2006-01-02T15:04:05.999999999Z07:00",
  kitchen: "3:04PM",
  stamp: "Jan _2 15:04:05",
  stampmilli: "Jan _2 15:04:05.000",
  stampmicro: "Jan _2 15:04:05.000000",
  stampnano: "Jan _2 15:04:05.000000000",
  datetime: "2006-01-02 15:04:05",
  dateonly: "2006-01-02",
  timeonly: "15:04:05",
};

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Layout tokens, longest first so `2006` wins over `2` and `Z07:00` over `-07`. */
const TOKEN = /January|Jan|Monday|Mon|MST|2006|Z07:00|Z0700|Z07|-07:00|-0700|-07|[.,](?:0+|9+)|01|02|_2|06|15|03|04|05|PM|pm|1|2|3|4|5/g;

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

function zoneName(d: Date): string {
  if (d.getTimezoneOffset() === 0) return "UTC";
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
  return part?.value ?? "UTC";
}

function offset(d: Date, colon: boolean, zulu: boolean, hoursOnly = false): string {
  const minutes = -d.getTimezoneOffset();
  if (zulu && minutes === 0) return "Z";
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  if (hoursOnly) return `${sign}${pad(Math.floor(abs / 60))}`;
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ":" : ""}${pad(abs % 60)}`;
}

function fraction(d: Date, token: string): string {
  const digits = token.length - 1;
  const nanos = String(d.getMilliseconds() * 1_000_000).padStart(9, "0").slice(0, digits);
  if (token[1] === "0") return token[0] + nanos;
  const trimmed = nanos.replace(/0+$/, "");
  return trimmed === "" ? "" : token[0] + trimmed;
}

function render(token: string, d: Date): string {
  const hour12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  switch (token) {
    case "January": return MONTHS[d.getMonth()]!;
    case "Jan": return MONTHS[d.getMonth()]!.slice(0, 3);
    case "Monday": return DAYS[d.getDay()]!;
    case "Mon": return DAYS[d.getDay()]!.slice(0, 3);
    case "MST": return zoneName(d);
    case "2006": return String(d.getFullYear());
    case "06": return pad(d.getFullYear() % 100);
    case "Z07:00": return offset(d, true, true);
    case "Z0700": return offset(d, false, true);
    case "Z07": return offset(d, false, true, true);
    case "-07:00": return offset(d, true, false);
    case "-0700": return offset(d, false, false);
    case "-07": return offset(d, false, false, true);
    case "01": return pad(d.getMonth() + 1);
    case "1": return String(d.getMonth() + 1);
    case "02": return pad(d.getDate());
    case "_2": return String(d.getDate()).padStart(2, " ");
    case "2": return String(d.getDate());
    case "15": return pad(d.getHours());
    case "03": return pad(hour12);
    case "3": return String(hour12);
    case "04": return pad(d.getMinutes());
    case "4": return String(d.getMinutes());
    case "05": return pad(d.getSeconds());
    case "5": return String(d.getSeconds());
    case "PM": return d.getHours() < 12 ? "AM" : "PM";
    case "pm": return d.getHours() < 12 ? "am" : "pm";
    default: return fraction(d, token);
  }
}

/** The Go layout for a `logTimeFormat` value: a known name (any case) or the value itself. */
export function layoutFor(format: string): string {
  return NAMED[format.toLowerCase()] ?? format;
}

/**
 * Formats `time` (ms) per `logTimeFormat`; "" gives "".
 *
 * @example
 * ```ts
 * formatLogTime("kitchen", Date.now()); // "3:04PM"-style
 * ```
 */
export function formatLogTime(format: string, time: number): string {
  if (format === "") return "";
  const d = new Date(time);
  return layoutFor(format).replace(TOKEN, (token) => render(token, d));
}
