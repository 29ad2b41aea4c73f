//! The request line of `mcpca serve` (its access log), written straight into the log buffer.
//!
//! Every request logs one line (method, route, status, duration, and for an issuance its `jti`,
//! client and server). Through the log framework that line cost the issuance path 5–9 % of its
//! throughput (BENCHMARKS.md, seventh pass): an event dispatched to the subscriber, its fields
//! visited one by one through `core::fmt`, formatted into a per-thread string, then copied into
//! the buffer. [`AccessLog`] writes the same bytes from the fields it knows, into one reused
//! buffer per thread, and appends them to the [`LogBuffer`] — as web servers write their access
//! logs apart from their diagnostics. The text is exactly what the subscriber writes for the
//! event `ops::observe` would otherwise send, in both formats (tested below against the
//! subscriber itself), and it honours `MCPCA_LOG` as that event would (the caller asks
//! `tracing::enabled!` first). On a terminal (coloured lines, each written at once) the event
//! goes through the subscriber as before.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use super::logbuf::LogBuffer;
use super::logfmt::{write_instant, Escaping};
use super::ops::Issued;

/// What one request's line says.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    /// The matched route's pattern (`/v0.1/servers/{name}`), or `unmatched`.
    pub route: &'a str,
    pub status: u16,
    pub micros: u64,
    /// For a response that carries a new descriptor: its `jti`, client and server (never the
    /// descriptor).
    pub issued: Option<&'a Issued>,
}

/// Writes request lines into a [`LogBuffer`], as text or JSON.
#[derive(Debug, Clone)]
pub struct AccessLog {
    json: bool,
    out: LogBuffer,
}

thread_local! {
    /// The line being written on this thread (its allocation is kept from line to line).
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

impl AccessLog {
    /// Lines as `--log-format json` (`json`) or text (without colours) into `out`.
    pub fn new(json: bool, out: LogBuffer) -> Self {
        AccessLog { json, out }
    }

    /// Log `line`, stamped now.
    pub fn write(&self, line: &RequestLine<'_>) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        LINE.with_borrow_mut(|text| {
            text.clear();
            // Writing into a `String` cannot fail.
            let _ = render(text, self.json, now.as_secs(), now.subsec_micros(), line);
            self.out.append(text.as_bytes());
        });
    }
}

/// The line of `line` at `secs.micros`, newline included, as the subscriber writes the event
/// `ops::observe` sends: `Full` text without colours (with `logfmt`'s fields and timer) or
/// flattened JSON.
fn render(out: &mut String, json: bool, secs: u64, micros: u32, line: &RequestLine<'_>) -> fmt::Result {
    if json {
        out.push_str(r#"{"timestamp":""#);
        write_instant(out, secs, micros)?;
        out.push_str(r#"","level":"INFO","message":"request","method":"#);
        json_str(out, line.method);
        out.push_str(r#","route":"#);
        json_str(out, line.route);
        write!(out, r#","status":{},"micros":{}"#, line.status, line.micros)?;
        if let Some(i) = line.issued {
            out.push_str(r#","jti":"#);
            json_str(out, &i.jti);
            out.push_str(r#","client":"#);
            json_str(out, &i.client);
            out.push_str(r#","server":""#);
            json_str_contents(out, &i.server.id);
            out.push('@');
            json_str_contents(out, &i.server.version);
            out.push('"');
        }
        out.push_str("}\n");
    } else {
        write_instant(out, secs, micros)?;
        out.push_str("  INFO request method=");
        Escaping(out).write_str(line.method)?;
        out.push_str(" route=");
        write!(Escaping(out), "{:?}", line.route)?;
        write!(out, " status={} micros={}", line.status, line.micros)?;
        if let Some(i) = line.issued {
            out.push_str(" jti=");
            Escaping(out).write_str(&i.jti)?;
            out.push_str(" client=");
            Escaping(out).write_str(&i.client)?;
            out.push_str(" server=");
            Escaping(out).write_str(&i.server.id)?;
            out.push('@');
            Escaping(out).write_str(&i.server.version)?;
        }
        out.push('\n');
    }
    Ok(())
}

/// `s` as a JSON string, escaped as serde_json escapes it (the subscriber's JSON is serde_json's).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    json_str_contents(out, s);
    out.push('"');
}

/// What goes between the quotes of `s` as a JSON string.
fn json_str_contents(out: &mut String, s: &str) {
    // Nearly every value needs no escape: copied in one piece.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push_str(s);
    } else {
        let quoted = serde_json::Value::from(s).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tracing_subscriber::fmt::format::Writer;
    use tracing_subscriber::fmt::time::FormatTime;

    use super::super::logfmt::capture::Capture;
    use super::*;

    fn server(id: &str, version: &str) -> crate::model::ServerRef {
        crate::model::ServerRef { id: id.into(), version: version.into() }
    }

    const SECS: u64 = 1_764_141_670;
    const MICROS: u32 = 912_697;

    /// The subscriber's timer, pinned to the instant the tests render at.
    struct Pinned;

    impl FormatTime for Pinned {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            write_instant(w, SECS, MICROS)
        }
    }

    /// What the subscriber `mcpca serve` installs writes for the event `ops::observe` sends.
    fn subscriber_line(json: bool, line: &RequestLine<'_>) -> String {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt().with_writer(capture.clone()).with_target(false).with_ansi(false).with_timer(Pinned);
        let emit = || super::super::ops::log_event(line);
        if json {
            tracing::subscriber::with_default(builder.json().flatten_event(true).finish(), emit);
        } else {
            tracing::subscriber::with_default(builder.fmt_fields(super::super::logfmt::Fields).finish(), emit);
        }
        capture.text()
    }

    fn ours(json: bool, line: &RequestLine<'_>) -> String {
        let mut s = String::new();
        render(&mut s, json, SECS, MICROS, line).unwrap();
        s
    }

    #[test]
    fn lines_are_what_the_subscriber_writes_in_both_formats() {
        let plain =
            Issued { jti: "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b".into(), client: "bot".into(), server: server("io.github.a/b", "1.0.0") };
        // Values a registry or an operator could put in a name: quotes, backslashes, control
        // characters (C0, DEL, C1), escape sequences, non-ASCII.
        let odd = Issued {
            jti: "j\"t\\i".into(),
            client: "bot\n2026-01-01T00:00:00Z  INFO forged".into(),
            server: server("\x1b[31mred\u{9b}\x07\u{7f}", "é\t\r\"\\"),
        };
        for json in [false, true] {
            for (method, route, status, micros, issued) in [
                ("POST", "/v1/connect", 200, 812, Some(&plain)),
                ("POST", "/v1/connect", 200, 0, Some(&odd)),
                ("GET", "/v0.1/servers/{name}/versions/{version}", 404, 18_446_744_073_709_551_615, None),
                ("PATCH", "unmatched", 405, 3, None),
                ("M\"\\", "/r\"\\\n", 500, 1, None),
            ] {
                let line = RequestLine { method, route, status, micros, issued };
                let theirs = subscriber_line(json, &line);
                assert_eq!(ours(json, &line), theirs, "json {json}");
                assert_eq!(theirs.lines().count(), 1);
                if json {
                    let v: serde_json::Value = serde_json::from_str(&theirs).unwrap();
                    assert_eq!(v["route"], route);
                    assert_eq!(v["status"], status);
                }
            }
        }
    }

    #[test]
    fn the_text_line_reads_as_documented() {
        let issued =
            Issued { jti: "0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b".into(), client: "bot".into(), server: server("io.github.a/b", "1.0.0") };
        let line = RequestLine { method: "POST", route: "/v1/connect", status: 200, micros: 812, issued: Some(&issued) };
        assert_eq!(
            ours(false, &line),
            "2025-11-26T07:21:10.912697Z  INFO request method=POST route=\"/v1/connect\" status=200 micros=812 \
             jti=0190a5b2-7c4e-7d2a-9f3b-2c1d4e5f6a7b client=bot server=io.github.a/b@1.0.0\n"
        );
    }

    #[test]
    fn lines_go_into_the_buffer() {
        let buffer = LogBuffer::default();
        let log = AccessLog::new(false, buffer.clone());
        log.write(&RequestLine { method: "GET", route: "/healthz", status: 200, micros: 5, issued: None });
        log.write(&RequestLine { method: "GET", route: "/readyz", status: 503, micros: 7, issued: None });
        let text = String::from_utf8(buffer.pending()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with("  INFO request method=GET route=\"/healthz\" status=200 micros=5"), "{text}");
        assert!(lines[1].ends_with("route=\"/readyz\" status=503 micros=7"), "{text}");
    }
}
