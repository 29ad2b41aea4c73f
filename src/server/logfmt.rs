//! The text log line of `mcpca serve`, written for the price of one line per request.
//!
//! The line is tracing-subscriber's `Full` format (`2026-11-26T07:21:10.912697Z  INFO request
//! method=POST route="/v1/connect" status=200 …`); [`Fields`] and [`Timestamp`] replace the
//! two parts of it that cost most on the issuance path (the request line was 3.7 % of the
//! service's CPU under load, BENCHMARKS.md): the default field visitor paints every field name
//! through `nu_ansi_term` and formats every value through `core::fmt` twice over, and the
//! default timer works the calendar date out again for every line. The text is the same
//! (tested against the default formatter below), with one difference a security tool wants:
//! control characters are escaped in every value, not only in the message, so a field can
//! neither break the line in two nor send escape sequences to a terminal.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::FormatFields;

/// Event and span fields as `name=value`, separated by spaces; the message first, bare.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fields;

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut v = Visitor { ansi: writer.has_ansi_escapes(), writer, first: true, result: Ok(()) };
        fields.record(&mut v);
        v.result
    }
}

struct Visitor<'a> {
    writer: Writer<'a>,
    ansi: bool,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    /// The separator and `name=` of a field (nothing but the separator for the message);
    /// false for fields that are not shown.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        // Metadata of events that came from the `log` crate, already shown in the line.
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        let w = &mut self.writer;
        let mut r = if self.first { Ok(()) } else { w.write_char(' ') };
        self.first = false;
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            r = r.and_then(|()| {
                if self.ansi {
                    // As the default formatter paints them: the name in italics, `=` dimmed.
                    write!(w, "\x1b[3m{name}\x1b[0m\x1b[2m=\x1b[0m")
                } else {
                    w.write_str(name).and_then(|()| w.write_char('='))
                }
            });
        }
        self.result = r;
        self.result.is_ok()
    }

    fn value(&mut self, value: fmt::Arguments<'_>) {
        self.result = Escaping(&mut self.writer).write_fmt(value);
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            if field.name() == "message" {
                self.result = Escaping(&mut self.writer).write_str(value);
            } else {
                self.value(format_args!("{value:?}"));
            }
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.start(field) {
            self.value(format_args!("{value}"));
            let mut source = value.source();
            if source.is_some() {
                let name = field.name();
                self.result = self.result.and_then(|()| match self.ansi {
                    true => write!(self.writer, " \x1b[3m{name}\x1b[0m\x1b[3m.sources\x1b[0m\x1b[2m=\x1b[0m["),
                    false => write!(self.writer, " {name}.sources=["),
                });
                let mut first = true;
                while let Some(s) = source {
                    if !first {
                        self.result = self.result.and_then(|()| self.writer.write_str(", "));
                    }
                    first = false;
                    self.value(format_args!("{s}"));
                    source = s.source();
                }
                self.result = self.result.and_then(|()| self.writer.write_char(']'));
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.value(format_args!("{value:?}"));
        }
    }
}

/// Writes text through, with control characters escaped (`\n`, `\x1b`, `\u{9b}`): C0 and DEL
/// as `\xNN` (`\n`, `\r`, `\t` as such), C1 as `\u{NN}`.
pub(crate) struct Escaping<'a, W: fmt::Write>(pub(crate) &'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Plain text (nearly every value) goes through in one piece.
        if !s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
            return self.0.write_str(s);
        }
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            let code = u32::from(c);
            if !(code < 0x20 || code == 0x7f || (0x80..=0x9f).contains(&code)) {
                continue;
            }
            self.0.write_str(&s[plain..i])?;
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                _ if code < 0x80 => write!(self.0, "\\x{code:02x}")?,
                _ => write!(self.0, "\\u{{{code:x}}}")?,
            }
            plain = i + c.len_utf8();
        }
        self.0.write_str(&s[plain..])
    }
}

/// UTC time with microseconds, `2026-11-26T07:21:10.912697Z` as the default timer writes it;
/// the date and time of day are worked out once a second (per thread).
#[derive(Debug, Default, Clone, Copy)]
pub struct Timestamp;

thread_local! {
    /// The second last written on this thread, and its `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

impl FormatTime for Timestamp {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        write_instant(w, now.as_secs(), now.subsec_micros())
    }
}

pub(crate) fn write_instant(w: &mut impl fmt::Write, secs: u64, micros: u32) -> fmt::Result {
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != secs {
            *second = secs;
            // `YYYY-MM-DDTHH:MM:SSZ` (the bare number of seconds when out of range), less the `Z`.
            let whole = i64::try_from(secs).map_or_else(|_| secs.to_string(), crate::clock::rfc3339);
            *text = whole.strip_suffix('Z').map(str::to_owned).unwrap_or(whole);
        }
        write!(w, "{text}.{micros:06}Z")
    })
}

/// What the log tests (these and `accesslog`'s) write lines into.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod capture {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    /// A subscriber's writer that keeps everything written, to read back as text.
    #[derive(Clone, Default)]
    pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    impl Capture {
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::capture::Capture;
    use super::*;

    struct Fixed;

    impl FormatTime for Fixed {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("T")
        }
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("store unreachable")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("connection refused")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    /// The events the service logs, in every shape of field it uses.
    fn events() {
        let route = "/v1/connect";
        let jti = uuid::Uuid::nil();
        tracing::info!(method = %"POST", route, status = 200u16, micros = 812u64, jti = %jti, client = %"bot", server = %"io.github.a/b@1.0.0", "request");
        tracing::warn!(grace_secs = 30u64, "connections still open after the shutdown grace period; closing them");
        tracing::error!(error = %"disk full", events = 16usize, "audit group commit failed");
        tracing::info!(addr = %"127.0.0.1:8421", issuer = %"http://127.0.0.1:8421", ok = true, delta = -3i64, "mcpca serving");
        tracing::warn!(error = &Outer(Inner) as &(dyn std::error::Error + 'static), "store error");
        tracing::info!(r#type = "x", list = ?vec!["a", "b"], "raw names and debug values");
        tracing::info!("a message alone");
    }

    /// The lines `events` log through our formatter.
    fn ours(ansi: bool, events: impl Fn()) -> String {
        let capture = Capture::default();
        let sub = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_target(false)
            .with_ansi(ansi)
            .with_timer(Fixed)
            .fmt_fields(Fields)
            .finish();
        tracing::subscriber::with_default(sub, events);
        capture.text()
    }

    #[test]
    fn lines_are_the_default_formatters() {
        for ansi in [false, true] {
            let default = Capture::default();
            let sub = tracing_subscriber::fmt().with_writer(default.clone()).with_target(false).with_ansi(ansi).with_timer(Fixed).finish();
            tracing::subscriber::with_default(sub, events);
            let fast = ours(ansi, events);
            assert_eq!(fast, default.text(), "ansi {ansi}");
            assert_eq!(fast.lines().count(), 7);
        }
    }

    #[test]
    fn the_request_line_reads_as_documented() {
        let text = ours(false, events);
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "T  INFO request method=POST route=\"/v1/connect\" status=200 micros=812 jti=00000000-0000-0000-0000-000000000000 client=bot server=io.github.a/b@1.0.0"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_every_value() {
        let text = ours(false, || {
            tracing::info!(client = %"bot\n2026-01-01T00:00:00Z  INFO forged", error = %"\x1b[31mred\u{9b}\x07", "two\rlines\tand\x7f");
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(
            text.trim_end(),
            "T  INFO two\\rlines\\tand\\x7f client=bot\\n2026-01-01T00:00:00Z  INFO forged error=\\x1b[31mred\\u{9b}\\x07"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut s = String::new();
        write_instant(&mut s, 1_764_141_670, 912_697).unwrap();
        assert_eq!(s, "2025-11-26T07:21:10.912697Z");
        s.clear();
        write_instant(&mut s, 1_764_141_670, 5).unwrap();
        assert_eq!(s, "2025-11-26T07:21:10.000005Z", "the same second, from the cache");
        s.clear();
        write_instant(&mut s, 951_782_400, 0).unwrap();
        assert_eq!(s, "2000-02-29T00:00:00.000000Z");
        // The same text the default timer writes for the same instant.
        let mut ours = String::new();
        let now = SystemTime::now();
        let d = now.duration_since(UNIX_EPOCH).unwrap();
        write_instant(&mut ours, d.as_secs(), d.subsec_micros()).unwrap();
        let theirs = time::OffsetDateTime::from(now);
        assert_eq!(
            ours,
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                theirs.year(),
                u8::from(theirs.month()),
                theirs.day(),
                theirs.hour(),
                theirs.minute(),
                theirs.second(),
                theirs.microsecond()
            )
        );
    }
}
