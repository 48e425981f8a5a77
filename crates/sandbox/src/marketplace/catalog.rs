//! A marketplace's operator catalog: the products offers attach to, each found by a reference
//! (its EAN or UPC, the operator's product SKU `MKP…`, or the SKU a shop gave it in a P41
//! import), and the operator's catalog configuration sellers read: H11 hierarchies, PM11
//! attributes, VL11 values lists and the OF61 offer states.
//!
//! The demo marketplaces know the demo WooCommerce store's products by GTIN, all but a
//! deterministic one in twenty, so "The product does not exist" shows up in the demo as it does
//! on a real marketplace.

use std::collections::{BTreeMap, HashMap};

use crate::entropy::Sequence;
use crate::woo::model::WooStore;
use crate::woo::seed::{COLORS, SIZES};

/// The `product-id-type` values the sandbox's marketplaces accept.
///
/// ASSUMPTION: the types are operator-configured; these four are the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceType {
    Ean,
    Upc,
    /// The operator's product SKU (`MKP…`), as OF21 shows it in `product_sku`.
    Sku,
    /// The SKU the shop gave the product in its own P41 import.
    ShopSku,
}

impl ReferenceType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "EAN" => Some(Self::Ean),
            "UPC" => Some(Self::Upc),
            "SKU" => Some(Self::Sku),
            "SHOP_SKU" => Some(Self::ShopSku),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ean => "EAN",
            Self::Upc => "UPC",
            Self::Sku => "SKU",
            Self::ShopSku => "SHOP_SKU",
        }
    }
}

/// A product of the operator's catalog.
#[derive(Debug, Clone)]
pub struct CatalogProduct {
    /// The operator's product SKU, `MKP` and a number.
    pub sku: String,
    pub title: String,
    pub brand: String,
    pub description: String,
    /// An H11 hierarchy code.
    pub category: String,
    /// The GTIN as it was given (EAN-13, UPC-A or EAN-8).
    pub gtin: Option<String>,
    /// The shops that imported it (P41), with the SKU each gave it.
    pub shop_skus: BTreeMap<i64, String>,
    /// Other attribute values by attribute code (`color`, `size`, `main_image`).
    pub attributes: BTreeMap<String, String>,
}

/// What a new product brings; the catalog gives it its SKU.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    pub title: String,
    pub brand: String,
    pub description: String,
    pub category: String,
    pub gtin: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<CatalogProduct>,
    by_gtin: HashMap<String, usize>,
    by_sku: HashMap<String, usize>,
    by_shop_sku: HashMap<(i64, String), usize>,
}

/// A GTIN as a comparable key: its digits padded to GTIN-14, so an EAN-13 `0…` and the UPC-A
/// it extends are the same product. `None` when the value cannot be a GTIN of that type.
pub fn gtin_key(kind: ReferenceType, value: &str) -> Option<String> {
    let value = value.trim();
    let lengths: &[usize] = match kind {
        ReferenceType::Ean => &[8, 13, 14],
        ReferenceType::Upc => &[12],
        ReferenceType::Sku | ReferenceType::ShopSku => return None,
    };
    let valid = lengths.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| format!("{value:0>14}"))
}

fn any_gtin_key(value: &str) -> Option<String> {
    gtin_key(ReferenceType::Ean, value).or_else(|| gtin_key(ReferenceType::Upc, value))
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn products(&self) -> impl Iterator<Item = &CatalogProduct> {
        self.products.iter()
    }

    /// The product a reference of an offer line names, as `shop_id` sees the catalog (its own
    /// SKUs only).
    pub fn find(&self, shop_id: i64, kind: ReferenceType, value: &str) -> Option<&CatalogProduct> {
        let index = match kind {
            ReferenceType::Ean | ReferenceType::Upc => self.by_gtin.get(&gtin_key(kind, value)?),
            ReferenceType::Sku => self.by_sku.get(value.trim()),
            ReferenceType::ShopSku => self.by_shop_sku.get(&(shop_id, value.trim().to_owned())),
        }?;
        self.products.get(*index)
    }

    pub fn get(&self, sku: &str) -> Option<&CatalogProduct> {
        self.by_sku
            .get(sku)
            .and_then(|index| self.products.get(*index))
    }

    /// The references OF21 lists for a product, as `shop_id` sees it.
    pub fn references(product: &CatalogProduct, shop_id: i64) -> Vec<(ReferenceType, String)> {
        let mut references = Vec::new();
        if let Some(gtin) = &product.gtin {
            let kind = if gtin.len() == 12 {
                ReferenceType::Upc
            } else {
                ReferenceType::Ean
            };
            references.push((kind, gtin.clone()));
        }
        if let Some(shop_sku) = product.shop_skus.get(&shop_id) {
            references.push((ReferenceType::ShopSku, shop_sku.clone()));
        }
        references
    }

    /// Adds a product and returns its SKU.
    pub fn add(&mut self, product: NewProduct) -> String {
        let index = self.products.len();
        let sku = format!("MKP{:09}", 100_001 + index);
        if let Some(key) = product.gtin.as_deref().and_then(any_gtin_key) {
            self.by_gtin.insert(key, index);
        }
        self.by_sku.insert(sku.clone(), index);
        self.products.push(CatalogProduct {
            sku: sku.clone(),
            title: product.title,
            brand: product.brand,
            description: product.description,
            category: product.category,
            gtin: product.gtin,
            shop_skus: BTreeMap::new(),
            attributes: product.attributes,
        });
        sku
    }

    /// A shop's P41 line, integrated: the product the shop already imported under that SKU is
    /// updated; otherwise a product with the same GTIN is matched and the shop's SKU attached
    /// to it; otherwise a new product is created. Returns whether a product was created.
    pub fn integrate(&mut self, shop_id: i64, shop_sku: &str, product: NewProduct) -> bool {
        let key = (shop_id, shop_sku.to_owned());
        let gtin_key = product.gtin.as_deref().and_then(any_gtin_key);
        let existing = self
            .by_shop_sku
            .get(&key)
            .or_else(|| gtin_key.as_ref().and_then(|gtin| self.by_gtin.get(gtin)))
            .copied();
        let (index, created) = match existing {
            Some(index) => {
                let known = &mut self.products[index];
                known.title = product.title;
                known.brand = product.brand;
                known.description = product.description;
                known.category = product.category;
                known.attributes.extend(product.attributes);
                if known.gtin.is_none()
                    && let Some(gtin_key) = gtin_key
                {
                    known.gtin = product.gtin;
                    self.by_gtin.insert(gtin_key, index);
                }
                (index, false)
            }
            None => {
                let sku = self.add(product);
                (self.by_sku[&sku], true)
            }
        };
        self.products[index]
            .shop_skus
            .insert(shop_id, shop_sku.to_owned());
        self.by_shop_sku.insert(key, index);
        created
    }
}

/// The GTIN the marketplace knows for a shop GTIN with a typo: the last digit before the check
/// digit is one off, the check digit is right for the typo. The demo story: about one shop
/// product in twenty carries such a typo, so its offer fails with "The product does not
/// exist" until the seller corrects the GTIN in the shop to this value.
pub fn corrected_gtin(typo: &str) -> String {
    match typo.len() {
        13 => {
            let body: u64 = typo[..12].parse().unwrap_or(0);
            let last = body % 10;
            crate::values::gtin::ean13(body - last + (last + 1) % 10)
        }
        _ => typo.to_owned(),
    }
}

/// The products of a WooCommerce store that carry a GTIN. For about one in twenty (drawn from
/// `seed`, so the same ones every run) the marketplace knows the product under the corrected
/// GTIN only (see [`corrected_gtin`]).
pub fn from_woo(store: &WooStore, seed: u64) -> Catalog {
    let mut catalog = Catalog::default();
    let mut sequence = Sequence::new(seed);
    for product in store.products.values() {
        if product.global_unique_id.is_empty() {
            continue;
        }
        let gtin = if sequence.below(20) == 0 {
            corrected_gtin(&product.global_unique_id)
        } else {
            product.global_unique_id.clone()
        };
        let parent = store.products.get(&product.parent_id);
        let brand = [Some(product), parent]
            .into_iter()
            .flatten()
            .flat_map(|p| p.attributes.iter())
            .find(|attribute| attribute.name == "Brand")
            .and_then(|attribute| attribute.options.first().cloned())
            .unwrap_or_else(|| "Generic".to_owned());
        let category = [Some(product), parent]
            .into_iter()
            .flatten()
            .flat_map(|p| p.categories.iter())
            .find_map(|id| store.categories.get(id))
            .map_or_else(|| "uncategorized".to_owned(), |c| c.slug.clone());
        let attributes = product
            .attributes
            .iter()
            .filter(|attribute| matches!(attribute.name.as_str(), "Color" | "Size"))
            .filter_map(|attribute| {
                let value = attribute.options.first()?;
                Some((attribute.name.to_ascii_lowercase(), value.clone()))
            })
            .collect();
        catalog.add(NewProduct {
            title: product.name.clone(),
            brand,
            description: format!("{}.", product.name),
            category,
            gtin: Some(gtin),
            attributes,
        });
    }
    catalog
}

/// H11: the operator's category tree, `(code, label, parent code)`; roots have no parent.
/// The leaves are the demo WooCommerce store's categories, by their slugs.
pub const HIERARCHIES: [(&str, &str, Option<&str>); 10] = [
    ("fashion", "Fashion", None),
    ("clothing", "Clothing", Some("fashion")),
    ("accessories", "Accessories", Some("fashion")),
    ("home-living", "Home & Living", None),
    ("home-kitchen", "Home & Kitchen", Some("home-living")),
    ("electronics", "Electronics", Some("home-living")),
    ("leisure", "Leisure", None),
    ("outdoor", "Outdoor", Some("leisure")),
    ("toys", "Toys", Some("leisure")),
    ("uncategorized", "Uncategorized", None),
];

/// A hierarchy's label, or the code itself when it is not one of the operator's.
pub fn hierarchy_label(code: &str) -> &str {
    HIERARCHIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(code, |(_, label, _)| label)
}

/// A hierarchy's level: 1 for a root.
pub fn hierarchy_level(code: &str) -> Option<u32> {
    let (_, _, parent) = HIERARCHIES.iter().find(|(c, _, _)| *c == code)?;
    match parent {
        None => Some(1),
        Some(parent) => hierarchy_level(parent).map(|level| level + 1),
    }
}

/// PM11's `requirement_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Required,
    Recommended,
    Optional,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "REQUIRED",
            Self::Recommended => "RECOMMENDED",
            Self::Optional => "OPTIONAL",
        }
    }
}

/// A PM11 attribute: one column of a P41 file.
#[derive(Debug, Clone, Copy)]
pub struct AttributeSpec {
    pub code: &'static str,
    pub label: &'static str,
    pub requirement: Requirement,
    /// PM11's `type`: TEXT, LONG_TEXT, LIST or MEDIA here.
    pub kind: &'static str,
    /// The VL11 list a LIST attribute takes its values from.
    pub values_list: Option<&'static str>,
    /// ASSUMPTION: role names follow Mirakl's product roles (`SHOP_SKU`, `TITLE`, …); the
    /// exact list is not published.
    pub role: Option<&'static str>,
    pub description: &'static str,
}

const fn attribute(
    code: &'static str,
    label: &'static str,
    requirement: Requirement,
    kind: &'static str,
) -> AttributeSpec {
    AttributeSpec {
        code,
        label,
        requirement,
        kind,
        values_list: None,
        role: None,
        description: "",
    }
}

/// PM11: every attribute is shared by all hierarchies. ASSUMPTION: `category` (an H11 code) is
/// listed as an attribute so a connector sees it is required; operators map it in many ways.
pub const ATTRIBUTES: [AttributeSpec; 9] = [
    AttributeSpec {
        role: Some("CATEGORY"),
        description: "The H11 hierarchy code of the product's category.",
        ..attribute("category", "Category", Requirement::Required, "TEXT")
    },
    AttributeSpec {
        role: Some("SHOP_SKU"),
        description: "The seller's SKU for the product; offers can name it with product-id-type SHOP_SKU.",
        ..attribute("shop_sku", "Seller SKU", Requirement::Required, "TEXT")
    },
    AttributeSpec {
        role: Some("TITLE"),
        ..attribute("title", "Title", Requirement::Required, "TEXT")
    },
    attribute("brand", "Brand", Requirement::Required, "TEXT"),
    attribute(
        "description",
        "Description",
        Requirement::Recommended,
        "LONG_TEXT",
    ),
    AttributeSpec {
        role: Some("UNIQUE_IDENTIFIER"),
        description: "EAN-13, EAN-8 or UPC-A.",
        ..attribute("ean", "EAN", Requirement::Optional, "TEXT")
    },
    AttributeSpec {
        values_list: Some("colors"),
        ..attribute("color", "Color", Requirement::Optional, "LIST")
    },
    AttributeSpec {
        values_list: Some("sizes"),
        ..attribute("size", "Size", Requirement::Optional, "LIST")
    },
    AttributeSpec {
        role: Some("MAIN_IMAGE"),
        ..attribute(
            "main_image",
            "Main image",
            Requirement::Recommended,
            "MEDIA",
        )
    },
];

/// VL11: the values lists, `(code, label, values)`.
pub fn values_lists() -> [(&'static str, &'static str, Vec<&'static str>); 2] {
    [
        ("colors", "Colors", COLORS.to_vec()),
        ("sizes", "Sizes", SIZES.to_vec()),
    ]
}

/// OF61: the offer conditions, `(code, label)`, in the operator's order.
pub const OFFER_STATES: [(&str, &str); 3] = [
    ("11", "New"),
    ("1", "Used - Like New"),
    ("10", "Refurbished"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ean_and_the_upc_it_extends_find_the_same_product() {
        let mut catalog = Catalog::default();
        let sku = catalog.add(NewProduct {
            title: "Lamp".into(),
            gtin: Some("0012345678905".into()),
            ..NewProduct::default()
        });
        let by_ean = catalog
            .find(1, ReferenceType::Ean, "0012345678905")
            .unwrap();
        let by_upc = catalog.find(1, ReferenceType::Upc, "012345678905").unwrap();
        assert_eq!(by_ean.sku, sku);
        assert_eq!(by_upc.sku, sku);
        assert!(catalog.find(1, ReferenceType::Ean, "12345678905").is_none());
        assert_eq!(
            catalog.find(1, ReferenceType::Sku, &sku).unwrap().title,
            "Lamp"
        );
    }

    #[test]
    fn a_shop_sku_is_seen_by_its_shop_only() {
        let mut catalog = Catalog::default();
        assert!(catalog.integrate(7, "MY-LAMP", NewProduct::default()));
        assert!(catalog.find(7, ReferenceType::ShopSku, "MY-LAMP").is_some());
        assert!(catalog.find(8, ReferenceType::ShopSku, "MY-LAMP").is_none());
        // The same SKU again updates the product instead of creating one.
        assert!(!catalog.integrate(
            7,
            "MY-LAMP",
            NewProduct {
                title: "Renamed".into(),
                ..NewProduct::default()
            }
        ));
        assert_eq!(catalog.len(), 1);
        assert_eq!(catalog.products().next().unwrap().title, "Renamed");
    }

    #[test]
    fn every_hierarchy_has_a_level() {
        for (code, _, _) in HIERARCHIES {
            assert!(hierarchy_level(code).is_some(), "{code}");
        }
    }
}
