//! The plain values several emulators write and read, owned by none of them: instants and their
//! text forms (`clock`), amounts of money (`money`) and GTIN check digits (`gtin`).

pub mod clock;
pub mod gtin;
pub mod money;
