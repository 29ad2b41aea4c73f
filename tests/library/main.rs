//! Library-level tests: known-answer vectors, the verifier contract, the key lifecycle on an
//! injected clock, and the generic store story.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attacks;
mod keys_lifecycle;
mod pg;
mod pg_tls;
mod rfc8037;
mod story;
mod verify;
mod wycheproof;
