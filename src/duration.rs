//! Human durations on the command line and in config: `30s`, `5m`, `1h`, `2d`, `1h30m`.

use std::fmt;
use std::str::FromStr;

/// A non-negative duration in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub u64);

/// The hard ceiling of any descriptor's lifetime (DESIGN §3).
pub const MAX_TTL_CEILING: Dur = Dur(24 * 3600);

impl Dur {
    /// Seconds.
    pub fn secs(self) -> u64 {
        self.0
    }
    /// Seconds as i64 (saturating), for arithmetic with timestamps.
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (examples: 30s, 5m, 1h, 1h30m, 2d)")]
pub struct DurError {
    input: String,
    reason: &'static str,
}

impl FromStr for Dur {
    type Err = DurError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurError { input: s.to_owned(), reason };
        let t = s.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        let mut total: u64 = 0;
        let mut rest = t;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("expected a number"));
            }
            let n: u64 = rest[..digits].parse().map_err(|_| err("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let mult = match &rest[..unit_len] {
                "s" | "sec" | "secs" => 1,
                "m" | "min" | "mins" => 60,
                "h" | "hr" | "hrs" => 3600,
                "d" | "day" | "days" => 86_400,
                "" => return Err(err("missing unit (s, m, h or d)")),
                _ => return Err(err("unknown unit (use s, m, h or d)")),
            };
            rest = &rest[unit_len..];
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .filter(|v| *v <= 100 * 365 * 86_400)
                .ok_or_else(|| err("too large"))?;
        }
        Ok(Dur(total))
    }
}

impl fmt::Display for Dur {
    /// Shortest exact form: `90s` → `1m30s`, `7200` → `2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0;
        if s == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= size {
                write!(f, "{}{unit}", s / size)?;
                s %= size;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30s, 5m, 1h30m or 2d (or a number of seconds)")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Dur, E> {
                Ok(Dur(n))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Dur, E> {
                u64::try_from(n).map(Dur).map_err(|_| E::custom(format!("a duration cannot be negative ({n})")))
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Dur, E> {
                t.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// "3m ago" / "in 2m" style rendering of a difference in seconds.
pub fn relative(delta: i64) -> String {
    let d = Dur(delta.unsigned_abs());
    if delta == 0 {
        "now".into()
    } else if delta > 0 {
        format!("in {d}")
    } else {
        format!("{d} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!("30s".parse(), Ok(Dur(30)));
        assert_eq!("5m".parse(), Ok(Dur(300)));
        assert_eq!("1h".parse(), Ok(Dur(3600)));
        assert_eq!("2d".parse(), Ok(Dur(172_800)));
        assert_eq!("1h30m".parse(), Ok(Dur(5400)));
        assert_eq!(" 90s ".parse(), Ok(Dur(90)));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "5", "m", "5x", "-5m", "1.5h", "99999999999999999999s", "40000d"] {
            assert!(bad.parse::<Dur>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn displays_shortest_form() {
        assert_eq!(Dur(0).to_string(), "0s");
        assert_eq!(Dur(90).to_string(), "1m30s");
        assert_eq!(Dur(7200).to_string(), "2h");
        assert_eq!(relative(-180), "3m ago");
        assert_eq!(relative(120), "in 2m");
    }
}
