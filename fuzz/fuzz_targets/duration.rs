//! Arbitrary text as a duration (`--ttl`, `ttl` of a connect body, config values): parsing,
//! the shortest-form display round trip, JSON decoding and the relative rendering.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::duration::{relative, Dur};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 {
        let mut n = [0u8; 8];
        n.copy_from_slice(&data[..8]);
        let _ = relative(i64::from_le_bytes(n));
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = text.parse::<Dur>() {
        let shown = d.to_string();
        match shown.parse::<Dur>() {
            Ok(back) => assert_eq!(back, d, "{text:?} → {shown:?} does not round-trip"),
            Err(e) => panic!("{text:?} → {shown:?} does not parse back: {e}"),
        }
        assert!(d.as_i64() >= 0);
    }
    if let Ok(d) = serde_json::from_str::<Dur>(text) {
        let _ = d.to_string();
        let _ = d.as_i64();
    }
    let _ = mcpca::clock::parse_instant(text);
});
