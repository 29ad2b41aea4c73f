//! Arbitrary bytes as a server.json document (what `server add --file`, `import` and the
//! admin API accept): the schema plus the official registry rules, and the helpers that read
//! a validated document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::registry::{self, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = validate::validate_name(text);
            let _ = validate::validate_description(text);
            let _ = validate::validate_version(text);
            let _ = validate::validate_endpoint_url(text);
        }
        return;
    };
    let verdict = validate::validate_document(&doc);
    assert_eq!(registry::check_document(&doc).is_ok(), verdict.is_ok());
    if let Err(violations) = verdict {
        assert!(!violations.is_empty(), "a refusal must name at least one violation");
        for v in &violations {
            let _ = v.to_string();
        }
    }
    let _ = validate::streamable_http_endpoint(&doc);
});
