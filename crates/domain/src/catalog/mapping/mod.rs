//! The column mapping of a marketplace channel that knows products by the seller's SKU
//! ([`super::ProductIdType::ShopSku`]): before an offer can name a product that way, the product
//! is created on the marketplace with a P41 import, a `;` CSV with one column per marketplace
//! attribute (PM11). The seller says, per attribute, where its value is read on a catalog item;
//! this module suggests a first mapping, checks one, and turns an item into its P41 line.
//!
//! The marketplace's attributes (PM11, with the VL11 values of its lists) and categories (H11)
//! are stored with the mapping, so a mapping is checked without calling Mirakl.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::item::{CatalogItem, Sku};
use super::offer::{OfferProblem, consumer_code, field_value, find_gtin, looked_in};
use super::settings::{FieldSource, ProductSettings};

/// A PM11 attribute as stored with a mapping (so the mapping can be checked without calling
/// Mirakl): one column of the P41 file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketplaceAttribute {
    pub code: String,
    pub label: String,
    /// PM11's requirement level is `REQUIRED`.
    pub required: bool,
    /// PM11's type: `TEXT`, `LONG_TEXT`, `LIST`, `MEDIA`, …
    pub kind: String,
    /// The value codes a `LIST` attribute takes (VL11); empty when any value goes.
    pub values: Vec<String>,
    /// PM11's roles: `SHOP_SKU`, `TITLE`, `CATEGORY`, `MAIN_IMAGE`, `UNIQUE_IDENTIFIER`, …
    pub roles: Vec<String>,
}

impl MarketplaceAttribute {
    /// The value as the marketplace takes it: for a `LIST` with known values, the list's code
    /// that matches it without regard to case; `None` when the list has no such value.
    fn accepted<'a>(&'a self, value: &'a str) -> Option<&'a str> {
        if !self.kind.eq_ignore_ascii_case("LIST") || self.values.is_empty() {
            return Some(value);
        }
        self.values
            .iter()
            .map(|code| code.trim())
            .find(|code| same_text(code, value))
    }

    /// A few of the list's values, for a message.
    fn some_values(&self) -> String {
        const SHOWN: usize = 5;
        let mut shown: Vec<&str> = self.values.iter().take(SHOWN).map(|v| v.trim()).collect();
        if self.values.len() > SHOWN {
            shown.push("…");
        }
        shown.join(", ")
    }

    fn has_role(&self, role: &str) -> bool {
        self.roles
            .iter()
            .any(|r| r.trim().eq_ignore_ascii_case(role))
    }
}

/// An H11 category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketplaceCategory {
    pub code: String,
    pub label: String,
    /// 1 for a root.
    pub level: u32,
    pub parent_code: Option<String>,
}

/// Where a marketplace attribute's value is read on a catalog item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnSource {
    /// The seller's SKU: the marketplace knows the product by it.
    Sku,
    Title,
    Description,
    /// Read where the product settings' `brand_source` says.
    Brand,
    /// Read where the product settings' `gtin_sources` say, checked and sent in its 8-, 12- or
    /// 13-digit form.
    Gtin,
    /// The item's first image.
    MainImage,
    /// The first of the item's categories that the mapping matches to a marketplace category,
    /// else the mapping's default category.
    Category,
    /// A product attribute with this name, compared without regard to case.
    Attribute(String),
    /// A custom field (meta data) with this key.
    Meta(String),
    /// The same value for every product.
    Fixed(String),
    /// The column stays empty.
    #[default]
    Nothing,
}

impl ColumnSource {
    /// Where the value is read, in the words a seller knows.
    pub fn label(&self, settings: &ProductSettings) -> String {
        match self {
            Self::Sku => "its SKU".to_owned(),
            Self::Title => "its name".to_owned(),
            Self::Description => "its description".to_owned(),
            Self::Brand => settings.brand_source.label(),
            Self::Gtin => looked_in(&settings.gtin_sources),
            Self::MainImage => "its images".to_owned(),
            Self::Category => "its categories".to_owned(),
            Self::Attribute(name) => FieldSource::Attribute(name.clone()).label(),
            Self::Meta(key) => FieldSource::Meta(key.clone()).label(),
            Self::Fixed(value) => format!("the fixed value “{}”", value.trim()),
            Self::Nothing => "nowhere".to_owned(),
        }
    }

    /// No value can come from it: nothing, or a blank fixed value.
    fn is_empty(&self) -> bool {
        match self {
            Self::Nothing => true,
            Self::Fixed(value) => value.trim().is_empty(),
            _ => false,
        }
    }
}

/// A marketplace channel's column mapping: the marketplace's attributes and categories as last
/// read, where each attribute's value is read, and which marketplace category each shop
/// category is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductMapping {
    pub attributes: Vec<MarketplaceAttribute>,
    pub categories_available: Vec<MarketplaceCategory>,
    /// By attribute code; an attribute left out is [`ColumnSource::Nothing`].
    pub columns: BTreeMap<String, ColumnSource>,
    /// Shop category id → H11 code.
    pub categories: BTreeMap<i64, String>,
    /// The H11 code of items none of whose categories is matched.
    pub default_category: Option<String>,
}

/// A mapping that cannot be saved, in the words the mapping form shows next to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingError {
    /// The attribute's code; `categories` for the category matches; `columns` for the mapping
    /// as a whole.
    pub attribute: String,
    pub message: String,
}

/// Shop attribute names a marketplace attribute of the same name is read from, as WooCommerce
/// shows them once capitalized.
const COMMON_SHOP_ATTRIBUTES: [&str; 7] = [
    "color", "colour", "size", "material", "pattern", "style", "gender",
];

impl ProductMapping {
    /// A sensible first mapping: by the attributes' roles, then by their codes and labels;
    /// each shop category `(id, name, slug)` matched to the marketplace category whose code is
    /// the slug or whose label is the name (without regard to case), a leaf rather than a
    /// parent.
    pub fn suggest(
        attributes: Vec<MarketplaceAttribute>,
        categories_available: Vec<MarketplaceCategory>,
        shop_categories: &[(i64, String, String)],
    ) -> ProductMapping {
        let sku_has_a_role = attributes.iter().any(|a| a.has_role("SHOP_SKU"));
        let mut sku_taken = false;
        let mut columns = BTreeMap::new();
        for attribute in &attributes {
            let mut source = suggested_source(attribute, sku_has_a_role);
            // One column holds the SKU: the first that would.
            if source == ColumnSource::Sku {
                if sku_taken {
                    source = ColumnSource::Nothing;
                }
                sku_taken = true;
            }
            columns.insert(attribute.code.clone(), source);
        }

        let is_leaf = |category: &MarketplaceCategory| {
            !categories_available
                .iter()
                .any(|c| c.parent_code.as_deref() == Some(category.code.as_str()))
        };
        let mut categories = BTreeMap::new();
        for (id, name, slug) in shop_categories {
            let matching = || {
                categories_available.iter().filter(|c| {
                    (!slug.trim().is_empty() && same_text(&c.code, slug))
                        || (!name.trim().is_empty() && same_text(&c.label, name))
                })
            };
            if let Some(category) = matching()
                .find(|c| is_leaf(c))
                .or_else(|| matching().next())
            {
                categories.insert(*id, category.code.clone());
            }
        }

        ProductMapping {
            attributes,
            categories_available,
            columns,
            categories,
            default_category: None,
        }
    }

    /// Where the attribute's value is read.
    fn source(&self, code: &str) -> &ColumnSource {
        self.columns.get(code).unwrap_or(&ColumnSource::Nothing)
    }

    /// The code of the column that holds the seller's SKU (the first, should several).
    pub fn sku_column(&self) -> Option<&str> {
        self.attributes
            .iter()
            .map(|a| a.code.as_str())
            .find(|code| *self.source(code) == ColumnSource::Sku)
    }

    /// Every problem at once, so the form can show them all.
    pub fn validate(&self) -> Result<(), Vec<MappingError>> {
        let mut errors = Vec::new();
        let mut fail = |attribute: &str, message: String| {
            errors.push(MappingError {
                attribute: attribute.to_owned(),
                message,
            });
        };

        let mut sku_label: Option<&str> = None;
        for attribute in &self.attributes {
            let (code, label) = (attribute.code.as_str(), attribute.label.as_str());
            let source = self.source(code);
            match source {
                _ if source.is_empty() && attribute.required => fail(
                    code,
                    format!("The marketplace requires “{label}”: choose where it is read."),
                ),
                ColumnSource::Fixed(value)
                    if !value.trim().is_empty() && attribute.accepted(value.trim()).is_none() =>
                {
                    fail(
                        code,
                        format!(
                            "“{}” is not one of the marketplace's values for “{label}”: choose \
                             one of {}.",
                            value.trim(),
                            attribute.some_values()
                        ),
                    );
                }
                ColumnSource::Attribute(name) | ColumnSource::Meta(name)
                    if name.trim().is_empty() =>
                {
                    fail(
                        code,
                        "Give the name of the attribute or custom field to read.".to_owned(),
                    );
                }
                ColumnSource::Sku => match sku_label {
                    Some(first) => fail(
                        code,
                        format!("Only one column can hold your SKU, and “{first}” does already."),
                    ),
                    None => sku_label = Some(label),
                },
                _ => {}
            }
        }
        if sku_label.is_none() {
            let sku_attribute = self.attributes.iter().find(|a| a.has_role("SHOP_SKU"));
            fail(
                sku_attribute.map_or("columns", |a| a.code.as_str()),
                "Choose the column that holds your SKU: the marketplace knows your products by it."
                    .to_owned(),
            );
        }
        for code in self.columns.keys() {
            if !self.attributes.iter().any(|a| &a.code == code) {
                fail(
                    code,
                    format!(
                        "The marketplace has no attribute “{code}” (any more): remove it from \
                         the mapping."
                    ),
                );
            }
        }

        let exists = |code: &str| self.categories_available.iter().any(|c| c.code == code);
        for (id, code) in &self.categories {
            if !exists(code) {
                fail(
                    "categories",
                    format!(
                        "Your category {id} is matched to “{code}”, which is not one of the \
                         marketplace's categories: match it again."
                    ),
                );
            }
        }
        if let Some(code) = &self.default_category
            && !exists(code)
        {
            fail(
                "categories",
                format!(
                    "The default category “{code}” is not one of the marketplace's categories: \
                     choose another."
                ),
            );
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The source an attribute suggests by its role, else by its code or label.
fn suggested_source(attribute: &MarketplaceAttribute, sku_has_a_role: bool) -> ColumnSource {
    const ROLES: [(&str, ColumnSource); 5] = [
        ("SHOP_SKU", ColumnSource::Sku),
        ("TITLE", ColumnSource::Title),
        ("CATEGORY", ColumnSource::Category),
        ("MAIN_IMAGE", ColumnSource::MainImage),
        ("UNIQUE_IDENTIFIER", ColumnSource::Gtin),
    ];
    if let Some((_, source)) = ROLES.iter().find(|(role, _)| attribute.has_role(role)) {
        return source.clone();
    }
    for name in [name_key(&attribute.code), name_key(&attribute.label)] {
        let source = match name.as_str() {
            "brand" => ColumnSource::Brand,
            "description" | "long_description" | "product_description" => ColumnSource::Description,
            "ean" | "gtin" | "upc" | "barcode" => ColumnSource::Gtin,
            "title" | "name" | "product_title" | "product_name" => ColumnSource::Title,
            "category" => ColumnSource::Category,
            "main_image" | "image" => ColumnSource::MainImage,
            "sku" | "shop_sku" | "seller_sku" if !sku_has_a_role => ColumnSource::Sku,
            common if COMMON_SHOP_ATTRIBUTES.contains(&common) => {
                ColumnSource::Attribute(capitalized(common))
            }
            _ => continue,
        };
        return source;
    }
    ColumnSource::Nothing
}

/// A code or label as a key: lower case, each run of other characters than letters and digits
/// one `_` (`Main image` and `main-image` are `main_image`).
fn name_key(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("_")
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The same text without regard to case or surrounding spaces.
fn same_text(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The attribute codes in the mapping's order: the P41 file's header.
pub fn columns(mapping: &ProductMapping) -> Vec<String> {
    mapping.attributes.iter().map(|a| a.code.clone()).collect()
}

/// One product's line of a P41 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductLine {
    pub sku: Sku,
    /// The attribute codes, [`columns`] of the mapping (so the line's hash changes with them).
    pub columns: Vec<String>,
    /// One per column, in order; `""` when none.
    pub values: Vec<String>,
}

/// Why an item cannot be created on the marketplace. Shown to the seller next to the item's
/// SKU, so each message says what to change.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProductProblem {
    #[error(
        "The marketplace requires “{attribute}”, and the channel's column mapping does not say where it is read: choose where in the column mapping."
    )]
    NotMapped { attribute: String },
    #[error(
        "The marketplace requires “{attribute}”, and this product has none in {looked_in}: fill it in WooCommerce, or read “{attribute}” from elsewhere in the channel's column mapping."
    )]
    MissingValue {
        attribute: String,
        looked_in: String,
    },
    #[error(
        "Its “{attribute}” is “{value}”, which is not one of the marketplace's values ({allowed}): change it in WooCommerce, or read “{attribute}” from elsewhere in the channel's column mapping."
    )]
    NotInList {
        attribute: String,
        value: String,
        allowed: String,
    },
    #[error("{}", no_category_message(categories))]
    NoCategory {
        /// The item's category names.
        categories: Vec<String>,
    },
    /// [`OfferProblem::InvalidGtin`], worded as for offers.
    #[error(transparent)]
    InvalidGtin(#[from] OfferProblem),
}

fn no_category_message(categories: &[String]) -> String {
    const FIX: &str = "match one of them to a marketplace category in the channel's column \
                       mapping, or choose a default category there.";
    if categories.is_empty() {
        return "It is in no category, and the channel's column mapping has no default \
                category: put it in a category in WooCommerce, or choose a default category \
                in the column mapping."
            .to_owned();
    }
    let names: Vec<String> = categories.iter().map(|n| format!("“{n}”")).collect();
    format!(
        "None of its categories ({}) is matched to a marketplace category, and there is no \
         default category: {FIX}",
        names.join(", ")
    )
}

/// The item's P41 line after the channel's column mapping. Values are trimmed; a `LIST`
/// attribute's value is sent as the list's code it matches without regard to case.
pub fn product_line_for(
    item: &CatalogItem,
    settings: &ProductSettings,
    mapping: &ProductMapping,
) -> Result<ProductLine, ProductProblem> {
    let mut values = Vec::with_capacity(mapping.attributes.len());
    for attribute in &mapping.attributes {
        let source = mapping.source(&attribute.code);
        let value = column_value(item, settings, mapping, source)?;
        let value = value.as_deref().map(str::trim).unwrap_or_default();
        if value.is_empty() {
            if attribute.required {
                let attribute = attribute.label.clone();
                return Err(match source {
                    _ if source.is_empty() => ProductProblem::NotMapped { attribute },
                    ColumnSource::Category => ProductProblem::NoCategory {
                        categories: item.categories.iter().map(|c| c.name.clone()).collect(),
                    },
                    _ => ProductProblem::MissingValue {
                        attribute,
                        looked_in: source.label(settings),
                    },
                });
            }
            values.push(String::new());
            continue;
        }
        let accepted = attribute
            .accepted(value)
            .ok_or_else(|| ProductProblem::NotInList {
                attribute: attribute.label.clone(),
                value: value.to_owned(),
                allowed: attribute.some_values(),
            })?;
        values.push(accepted.to_owned());
    }
    Ok(ProductLine {
        sku: item.sku.clone(),
        columns: columns(mapping),
        values,
    })
}

/// The raw value a source holds for the item, if any.
fn column_value(
    item: &CatalogItem,
    settings: &ProductSettings,
    mapping: &ProductMapping,
    source: &ColumnSource,
) -> Result<Option<String>, ProductProblem> {
    let field = |source: FieldSource| field_value(item, &source).map(str::to_owned);
    Ok(match source {
        ColumnSource::Sku => Some(item.sku.as_str().to_owned()),
        ColumnSource::Title => Some(item.title.clone()),
        ColumnSource::Description => Some(item.description.clone()),
        ColumnSource::Brand => field(settings.brand_source.clone()),
        ColumnSource::Gtin => match find_gtin(item, settings)? {
            Some(gtin) => Some(consumer_code(&gtin)?.to_owned()),
            None => None,
        },
        ColumnSource::MainImage => item.images.first().cloned(),
        ColumnSource::Category => item
            .categories
            .iter()
            .find_map(|c| mapping.categories.get(&c.id))
            .or(mapping.default_category.as_ref())
            .cloned(),
        ColumnSource::Attribute(name) => field(FieldSource::Attribute(name.clone())),
        ColumnSource::Meta(key) => field(FieldSource::Meta(key.clone())),
        ColumnSource::Fixed(value) => Some(value.clone()),
        ColumnSource::Nothing => None,
    })
}

#[cfg(test)]
mod tests;
