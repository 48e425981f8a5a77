//! GTINs: the WooCommerce demo catalog gives its products EAN-13s, and the marketplaces know a
//! mistyped one under its corrected EAN-13.

/// An EAN-13 from twelve digits and their check digit.
pub fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(index, b)| u32::from(b - b'0') * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digits_are_valid() {
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        assert_eq!(ean13(590_123_412_345), "5901234123457");
    }
}
