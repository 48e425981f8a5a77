//! Enums stored and shown by name: each variant has one lower-case name, written to the
//! database and read back with `parse`. [`named_enum!`] writes `as_str`, `parse`, `ALL` and
//! `Display` once for all of them.

/// Declares an enum whose variants are stored by name:
///
/// ```
/// domain::named_enum! {
///     /// The verdict of a check.
///     pub enum Health { Ok = "ok", Down = "down" }
/// }
/// assert_eq!(Health::parse("down"), Some(Health::Down));
/// assert_eq!(Health::Ok.to_string(), "ok");
/// ```
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$( Self::$variant ),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }

            /// The variant stored as `s`.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    named_enum! {
        /// A test enum.
        pub enum Colour {
            Red = "red",
            /// A documented variant.
            Dark = "dark_blue",
        }
    }

    #[test]
    fn names_go_both_ways() {
        for colour in Colour::ALL {
            assert_eq!(Colour::parse(colour.as_str()), Some(*colour));
        }
        assert_eq!(Colour::Dark.to_string(), "dark_blue");
        assert_eq!(Colour::parse("green"), None);
    }
}
