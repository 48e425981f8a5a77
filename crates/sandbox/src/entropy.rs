//! Random values: opaque tokens (sessions, codes, refresh tokens) and e-mailed verification codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes from the operating system's generator. Without one the sandbox cannot issue a single
/// safe token, so failing loudly is the only sensible answer.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random generator is unavailable");
    bytes
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Six decimal digits, as a verification e-mail carries.
pub fn verification_code() -> String {
    let n = u32::from_le_bytes(random_bytes::<4>()) % 1_000_000;
    format!("{n:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_codes_are_six_digits() {
        for _ in 0..100 {
            let code = verification_code();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn tokens_differ_each_time() {
        assert_ne!(random_token(), random_token());
    }
}
