//! The plain values several emulators write and read, owned by none of them: instants and their
//! text forms (`clock`), amounts of money (`money`), GTIN check digits (`gtin`) and the shoppers
//! behind orders (`customer`).

pub mod clock;
pub mod customer;
pub mod gtin;
pub mod money;
