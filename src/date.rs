//! HTTP dates (RFC 9110 IMF-fixdate) for the `Expires` attribute, written
//! by hand: `core::fmt` took a third of the time of a whole `Set-Cookie`
//! (benches/web.rs).

/// Appends `secs` (Unix seconds) as an HTTP date (RFC 9110 IMF-fixdate):
/// `Thu, 01 Jan 1970 00:00:00 GMT`. Callers pass times up to
/// [`MAX_TIME`](crate::limits::MAX_TIME) (9999-12-31), so years have four digits.
pub(crate) fn push_http_date(out: &mut String, secs: u64) {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let seconds = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = WEEKDAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    // By hand rather than with `write!`: `core::fmt` took a third of the
    // time of a whole `Set-Cookie` (benches/web.rs).
    out.push_str(weekday);
    out.push_str(", ");
    push_decimal(out, day, 2);
    out.push(' ');
    out.push_str(month);
    out.push(' ');
    push_decimal(out, year, 4);
    out.push(' ');
    push_decimal(out, seconds / 3600, 2);
    out.push(':');
    push_decimal(out, seconds / 60 % 60, 2);
    out.push(':');
    push_decimal(out, seconds % 60, 2);
    out.push_str(" GMT");
}

/// Appends `n` in decimal, with leading zeros up to `width` digits.
pub(crate) fn push_decimal(out: &mut String, n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    while start > 0 && (rest > 0 || digits.len() - start < width.max(1)) {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            // `rest % 10` is a single digit.
            *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        }
        rest /= 10;
    }
    for &digit in digits.get(start..).unwrap_or_default() {
        out.push(char::from(digit));
    }
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of `days`
/// after 1970-01-01 (Howard Hinnant's `civil_from_days`, for days since the
/// epoch only).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01, so that leap days end each year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Unit tests against the `cookie` crate's dates.
#[cfg(test)]
mod tests;
