//! The shoppers behind the emulated orders: made-up people with French addresses, and what
//! they put in their basket, drawn from a seeded sequence so the same orders come out the same
//! on every run. The marketplaces and Mirakl Connect each render them in their own fields.

use crate::entropy::Sequence;

const FIRST_NAMES: [&str; 10] = [
    "Camille", "Louis", "Chloé", "Hugo", "Léa", "Arthur", "Manon", "Jules", "Inès", "Gabriel",
];
const LAST_NAMES: [&str; 10] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau",
];
const STREETS: [&str; 6] = [
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Voltaire",
    "rue Victor Hugo",
    "place de la Mairie",
    "chemin des Vignes",
];
/// `(city, zip code)`.
const CITIES: [(&str, &str); 6] = [
    ("Lyon", "69002"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Nantes", "44000"),
    ("Toulouse", "31000"),
    ("Strasbourg", "67000"),
];

/// A shopper and where the parcel goes (billed at the same address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub civility: &'static str,
    pub firstname: &'static str,
    pub lastname: &'static str,
    pub phone: String,
    pub street: String,
    /// A floor or a door, for some.
    pub street_additional: Option<&'static str>,
    pub zip_code: &'static str,
    pub city: &'static str,
}

impl Customer {
    /// Customer number `number`, drawn from `sequence`.
    pub fn draw(sequence: &mut Sequence, number: u64) -> Self {
        let first = sequence.below(FIRST_NAMES.len() as u64) as usize;
        let (city, zip_code) = CITIES[sequence.below(CITIES.len() as u64) as usize];
        Self {
            id: format!("CUST-{number:05}"),
            // The first names alternate between women's and men's.
            civility: if first.is_multiple_of(2) { "Mrs" } else { "Mr" },
            firstname: FIRST_NAMES[first],
            lastname: sequence.pick(&LAST_NAMES),
            phone: format!(
                "+33 6 {:02} {:02} {:02} {:02}",
                sequence.below(100),
                sequence.below(100),
                sequence.below(100),
                sequence.below(100)
            ),
            street: format!("{} {}", 1 + sequence.below(120), sequence.pick(&STREETS)),
            street_additional: (sequence.below(3) == 0).then_some("Bâtiment B"),
            zip_code,
            city,
        }
    }

    /// The country, in words and as ISO 3166 alpha-3 (what both Mirakl APIs send).
    pub const COUNTRY: &'static str = "France";
    pub const COUNTRY_ISO: &'static str = "FRA";
}

/// What a customer picking at random buys from `available` (item, quantity in stock), which
/// must not be empty: one to three different items, 1 or 2 of each within its stock.
pub fn basket(sequence: &mut Sequence, mut available: Vec<(String, i64)>) -> Vec<(String, i64)> {
    let count = (1 + sequence.below(3) as usize).min(available.len());
    let mut lines = Vec::with_capacity(count);
    for _ in 0..count {
        let (item, stock) = available.swap_remove(sequence.below(available.len() as u64) as usize);
        lines.push((item, (1 + sequence.below(2) as i64).min(stock)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_customers() {
        let draw = |seed| {
            let mut sequence = Sequence::new(seed);
            (1..=5)
                .map(|n| Customer::draw(&mut sequence, n))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_eq!(draw(7)[2].id, "CUST-00003");
    }
}
