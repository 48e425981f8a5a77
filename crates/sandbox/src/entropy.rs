//! Random values: opaque tokens (sessions, codes, refresh tokens) and e-mailed verification codes
//! from the operating system, and `Sequence`, the seeded generator behind everything that must
//! come out the same on every run (the demo catalogs, injected faults).

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

/// SplitMix64: small, fast and the same on every machine for the same seed.
#[derive(Debug, Clone)]
pub struct Sequence(u64);

impl Sequence {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A fraction in `[0, 1)`, from the top 53 bits (an f64's precision).
    pub fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
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
    fn a_sequence_repeats_for_its_seed_and_stays_in_range() {
        let (mut a, mut b) = (Sequence::new(7), Sequence::new(7));
        for _ in 0..1000 {
            let fraction = a.fraction();
            assert_eq!(fraction, b.fraction());
            assert!((0.0..1.0).contains(&fraction));
        }
    }

    #[test]
    fn tokens_differ_each_time() {
        assert_ne!(random_token(), random_token());
    }
}
