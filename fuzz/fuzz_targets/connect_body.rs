//! Arbitrary bytes as a `POST /v1/connect` body, decoded exactly as the handler does:
//! `ConnectRequest`, then `server_ref` as `ServerRefArg` and `ttl` as a `Dur`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcpca::authority::ServerRefArg;
use mcpca::duration::Dur;
use mcpca::server::connect::ConnectRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<ConnectRequest>(data) else { return };
    if let Ok(server) = req.server_ref.parse::<ServerRefArg>() {
        assert!(!server.name.is_empty());
        // Display and parse agree.
        let again: ServerRefArg = match server.to_string().parse() {
            Ok(s) => s,
            Err(e) => panic!("{server} does not parse back: {e}"),
        };
        assert_eq!(again.name, server.name);
        assert_eq!(again.version, server.version);
    }
    if let Some(ttl) = req.ttl.as_deref() {
        if let Ok(d) = ttl.parse::<Dur>() {
            assert!(d.as_i64() >= 0);
        }
    }
});
