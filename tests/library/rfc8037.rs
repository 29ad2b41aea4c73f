//! RFC 8037 Appendix A test vectors: thumbprint and JWS signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mcpca::descriptor::jws_sign;
use mcpca::keys::{thumbprint, KeyPair};

const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn key() -> KeyPair {
    let seed: [u8; 32] = URL_SAFE_NO_PAD.decode(D).unwrap().try_into().unwrap();
    KeyPair::from_seed(&seed)
}

#[test]
fn public_key_matches_appendix_a1() {
    assert_eq!(URL_SAFE_NO_PAD.encode(key().public().as_bytes()), X);
}

#[test]
fn thumbprint_matches_appendix_a3() {
    let x: [u8; 32] = URL_SAFE_NO_PAD.decode(X).unwrap().try_into().unwrap();
    assert_eq!(thumbprint(&x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    assert_eq!(key().kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn signature_matches_appendix_a4() {
    let jws = jws_sign(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing", &key());
    assert_eq!(
        jws,
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
         hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
}
