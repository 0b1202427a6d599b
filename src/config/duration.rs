//! Go's `time.ParseDuration`, which MetalLB uses for `hold-time` and `keepalive-time`.
//! Reproduced so we accept and reject exactly what MetalLB does, with Go's error wording.

/// Parse a Go duration into nanoseconds. Errors read like Go's (`time: missing unit in
/// duration "120"`); `quoted` picks the wording of Go 1.15+ (quoted input) over older Go.
pub fn parse_go_duration(s: &str, quoted: bool) -> Result<i64, String> {
    let shown = if quoted {
        format!("{s:?}")
    } else {
        s.to_string()
    };
    let invalid = || format!("time: invalid duration {shown}");
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    let mut exact: i128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {shown}"));
        }
        let Some(scale) = unit_nanos(unit) else {
            let unit_shown = if quoted {
                format!("{unit:?}")
            } else {
                unit.to_string()
            };
            return Err(format!(
                "time: unknown unit {unit_shown} in duration {shown}"
            ));
        };
        let value: f64 = number.parse().map_err(|_| invalid())?;
        total += value * scale as f64;
        if !number.contains('.') {
            let whole: i128 = number.parse().map_err(|_| invalid())?;
            exact = exact.saturating_add(whole.saturating_mul(scale as i128));
        } else {
            exact = total as i128;
        }
        if total > i64::MAX as f64 || exact > i64::MAX as i128 {
            return Err(invalid());
        }
    }
    let nanos = if exact as f64 == total {
        exact as i64
    } else {
        total as i64
    };
    Ok(if negative { -nanos } else { nanos })
}

fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_go_durations() {
        assert_eq!(parse_go_duration("90s", true), Ok(90 * NANOS_PER_SECOND));
        assert_eq!(parse_go_duration("1m30s", true), Ok(90 * NANOS_PER_SECOND));
        assert_eq!(parse_go_duration("1.5h", true), Ok(5400 * NANOS_PER_SECOND));
        assert_eq!(parse_go_duration("0", true), Ok(0));
        assert_eq!(parse_go_duration("-3s", true), Ok(-3 * NANOS_PER_SECOND));
        assert_eq!(parse_go_duration("2500ms", true), Ok(2_500_000_000));
    }

    #[test]
    fn rejects_like_go() {
        assert_eq!(
            parse_go_duration("120", false).unwrap_err(),
            "time: missing unit in duration 120"
        );
        assert_eq!(
            parse_go_duration("120", true).unwrap_err(),
            "time: missing unit in duration \"120\""
        );
        assert_eq!(
            parse_go_duration("5x", true).unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert!(parse_go_duration("", true).is_err());
        assert!(parse_go_duration("s", true).is_err());
        assert!(parse_go_duration("1..2s", true).is_err());
        assert!(parse_go_duration("99999999999999999999h", true).is_err());
    }
}
