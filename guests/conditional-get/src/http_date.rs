//! `django.utils.http.parse_http_date_safe`, ported rather than taken from
//! a crate: Django reads the weekday as any three word characters (a
//! wrong weekday still parses), the month case-insensitively, years before
//! 1970, and two-digit years relative to the current year. `httpdate`
//! refuses the first three and pins two-digit years to 1970-2069, so the
//! same `If-Modified-Since` would get a 304 from Django and a 200 here.
//!
//! Django's three patterns (`\w` is a Unicode word character, `[0-9]` an
//! ASCII digit):
//!
//! - RFC 1123: `^\w{3}, DD MON YYYY HH:MM:SS GMT$`
//! - RFC 850:  `^\w{6,9}, DD-MON-YY HH:MM:SS GMT$`
//! - asctime:  `^\w{3} MON [ 0-9]D HH:MM:SS YYYY$`

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Seconds since the epoch, or `None` for anything Django's
/// `parse_http_date` raises on.
pub(crate) fn parse_http_date_safe(date: &str) -> Option<i64> {
    let chars: Vec<char> = date.chars().collect();
    let fields = rfc1123(&chars)
        .or_else(|| rfc850(&chars))
        .or_else(|| asctime(&chars))?;
    timestamp(&fields)
}

/// The matched fields, as text: year, month name, day, hour, minute, second.
struct Fields {
    year: String,
    mon: String,
    day: String,
    time: [String; 3],
}

/// Matches `chars` against a shape where `w` is a word character, `d` an
/// ASCII digit, `_` a space or a digit, and anything else itself; the
/// whole input must match.
fn shaped(chars: &[char], shape: &str) -> bool {
    chars.len() == shape.chars().count()
        && chars.iter().zip(shape.chars()).all(|(&c, s)| match s {
            'w' => c.is_alphanumeric() || c == '_',
            'd' => c.is_ascii_digit(),
            '_' => c == ' ' || c.is_ascii_digit(),
            literal => c == literal,
        })
}

fn text(chars: &[char], from: usize, len: usize) -> String {
    chars[from..from + len].iter().collect()
}

fn time(chars: &[char], at: usize) -> [String; 3] {
    [
        text(chars, at, 2),
        text(chars, at + 3, 2),
        text(chars, at + 6, 2),
    ]
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn rfc1123(c: &[char]) -> Option<Fields> {
    shaped(c, "www, dd www dddd dd:dd:dd GMT").then(|| Fields {
        day: text(c, 5, 2),
        mon: text(c, 8, 3),
        year: text(c, 12, 4),
        time: time(c, 17),
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`: the weekday is 6 to 9 word
/// characters (the run ends at the comma, which is not one).
fn rfc850(c: &[char]) -> Option<Fields> {
    let weekday = c
        .iter()
        .take_while(|&&ch| ch.is_alphanumeric() || ch == '_')
        .count();
    if !(6..=9).contains(&weekday) {
        return None;
    }
    let c = &c[weekday..];
    shaped(c, ", dd-www-dd dd:dd:dd GMT").then(|| Fields {
        day: text(c, 2, 2),
        mon: text(c, 5, 3),
        year: text(c, 9, 2),
        time: time(c, 12),
    })
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(c: &[char]) -> Option<Fields> {
    shaped(c, "www www _d dd:dd:dd dddd").then(|| Fields {
        mon: text(c, 4, 3),
        day: text(c, 8, 2),
        time: time(c, 11),
        year: text(c, 20, 4),
    })
}

/// The rest of `parse_http_date`: a two-digit year more than 50 years
/// ahead is in the past century; then `datetime(...)` (which refuses
/// impossible dates) and its UTC timestamp.
fn timestamp(f: &Fields) -> Option<i64> {
    let mut year: i64 = f.year.parse().ok()?;
    if year < 100 {
        let current_year = civil_from_days(now_days()).0;
        let current_century = current_year - current_year % 100;
        year += if year - current_year % 100 > 50 {
            current_century - 100
        } else {
            current_century
        };
    }
    let month = MONTHS.iter().position(|m| *m == f.mon.to_lowercase())? as i64 + 1;
    // `int(" 6")` is 6: asctime pads the day with a space.
    let day: i64 = f.day.trim_start().parse().ok()?;
    let [hour, min, sec] = [&f.time[0], &f.time[1], &f.time[2]].map(|t| t.parse::<i64>().ok());
    let (hour, min, sec) = (hour?, min?, sec?);
    let valid = (1..=9999).contains(&year)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && min < 60
        && sec < 60;
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn now_days() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    secs.div_euclid(86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of `days_from_civil`: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}
