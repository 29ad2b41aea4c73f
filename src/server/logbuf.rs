//! Buffered stderr for the service's logs. `mcpca serve` logs one line per request; written
//! straight to stderr that is one `write` system call per request on the issuance path. Lines are
//! appended to a buffer instead and written out by a small thread every [`FLUSH_EVERY`], at
//! once when the buffer passes [`FLUSH_AT`] bytes, and at shutdown ([`LogBuffer::flush`]).
//! An error line is never held back: events at `ERROR` or `WARN` flush the buffer with them.
//! A crash of the process can lose at most the last [`FLUSH_EVERY`] of request lines; the audit
//! log, not this, is the record of what was issued.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Longest time a line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Buffered bytes that trigger an immediate write.
pub const FLUSH_AT: usize = 64 << 10;

/// A shared log buffer in front of stderr.
#[derive(Clone, Debug, Default)]
pub struct LogBuffer {
    buf: Arc<Mutex<Vec<u8>>>,
    /// No flushing thread could be started: every line is written at once.
    direct: bool,
}

impl LogBuffer {
    /// A buffer with its flushing thread started (the thread ends with the process).
    pub fn start() -> Self {
        let mut this = LogBuffer::default();
        let weak = Arc::downgrade(&this.buf);
        let spawned = std::thread::Builder::new().name("mcpca-log".into()).spawn(move || loop {
            std::thread::sleep(FLUSH_EVERY);
            let Some(buf) = weak.upgrade() else { return };
            LogBuffer { buf, direct: false }.flush();
        });
        this.direct = spawned.is_err();
        this
    }

    /// No buffering: every line is written at once (stderr is a terminal).
    pub fn direct() -> Self {
        LogBuffer { direct: true, ..LogBuffer::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A poisoned buffer still holds bytes worth writing.
        self.buf.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write everything buffered to stderr now.
    pub fn flush(&self) {
        let pending = std::mem::take(&mut *self.lock());
        if !pending.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&pending);
            let _ = err.flush();
        }
    }

    /// Append whole lines (written out with the next flush; at once without a flushing thread).
    pub fn append(&self, lines: &[u8]) {
        // Appending to a `Vec` cannot fail.
        let _ = self.writer(false).write_all(lines);
    }

    /// What is buffered, not yet written.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> Vec<u8> {
        self.lock().clone()
    }

    fn writer(&self, urgent: bool) -> LineWriter<'_> {
        LineWriter { owner: self, urgent: urgent || self.direct }
    }
}

/// One event's writer: appends to the buffer; `urgent` events flush on drop.
#[derive(Debug)]
pub struct LineWriter<'a> {
    owner: &'a LogBuffer,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut buf = self.owner.lock();
            buf.extend_from_slice(bytes);
            buf.len() >= FLUSH_AT
        };
        if full {
            self.owner.flush();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        if self.urgent {
            self.owner.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        self.writer(true)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        self.writer(*meta.level() <= Level::WARN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_in_the_buffer_and_urgent_ones_flush_it() {
        let b = LogBuffer::default();
        b.writer(false).write_all(b"request line\n").unwrap();
        assert_eq!(b.lock().as_slice(), b"request line\n", "an info line is buffered");
        b.writer(true).write_all(b"warning\n").unwrap();
        assert!(b.lock().is_empty(), "a warning flushes the buffer with it");
        let direct = LogBuffer::direct();
        direct.writer(false).write_all(b"line\n").unwrap();
        assert!(direct.lock().is_empty(), "without a flushing thread every line goes out at once");
    }

    #[test]
    fn a_full_buffer_is_written_at_once() {
        let b = LogBuffer::default();
        b.writer(false).write_all(&vec![b'x'; FLUSH_AT]).unwrap();
        assert!(b.lock().is_empty());
    }
}
