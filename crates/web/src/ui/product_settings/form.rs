//! The Product Settings form as fields: [`SettingsForm`] (what the seller typed, kept to show
//! it again), [`form_from`] (saved settings as fields) and [`parse_form`] (fields as settings,
//! every bad value named with the field it belongs to). The page itself is `super`'s.

use domain::catalog::{
    Currency, FieldSource, Money, PriceRule, ProductIdType, ProductSettings, RemovalPolicy,
    Rounding, Selection, StockRule,
};

/// The form as typed, so a page with errors shows the seller's own values again. Categories
/// and tags come as ticked boxes (`category`, `tag`, one per term) when the shop could be
/// read, or as typed IDs (`categories`, `tags`) when it could not.
#[derive(Default, Clone)]
pub struct SettingsForm {
    pub sync_products: Option<String>,
    pub selection: String,
    pub categories: String,
    pub tags: String,
    pub category: Vec<String>,
    pub tag: Vec<String>,
    pub skus: String,
    pub use_sale_price: Option<String>,
    pub markup_percent: String,
    pub markup_fixed: String,
    pub rounding: String,
    pub buffer: String,
    pub maximum: String,
    pub out_of_stock_below: String,
    pub unmanaged_quantity: String,
    pub backorder_as_in_stock: Option<String>,
    pub product_id_type: String,
    /// `global_unique_id`, `meta` or `attribute`.
    pub gtin_source: String,
    pub gtin_name: String,
    /// `attribute` or `meta`.
    pub brand_source: String,
    pub brand_name: String,
    pub offer_state: String,
    pub currency: String,
    pub removal: String,
}

impl SettingsForm {
    /// The form from its fields as sent; repeated boxes (`category`, `tag`) are gathered, an
    /// unknown field is ignored.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "category" => {
                    f.category.push(value);
                    continue;
                }
                "tag" => {
                    f.tag.push(value);
                    continue;
                }
                "sync_products" => {
                    f.sync_products = Some(value);
                    continue;
                }
                "use_sale_price" => {
                    f.use_sale_price = Some(value);
                    continue;
                }
                "backorder_as_in_stock" => {
                    f.backorder_as_in_stock = Some(value);
                    continue;
                }
                "selection" => &mut f.selection,
                "categories" => &mut f.categories,
                "tags" => &mut f.tags,
                "skus" => &mut f.skus,
                "markup_percent" => &mut f.markup_percent,
                "markup_fixed" => &mut f.markup_fixed,
                "rounding" => &mut f.rounding,
                "buffer" => &mut f.buffer,
                "maximum" => &mut f.maximum,
                "out_of_stock_below" => &mut f.out_of_stock_below,
                "unmanaged_quantity" => &mut f.unmanaged_quantity,
                "product_id_type" => &mut f.product_id_type,
                "gtin_source" => &mut f.gtin_source,
                "gtin_name" => &mut f.gtin_name,
                "brand_source" => &mut f.brand_source,
                "brand_name" => &mut f.brand_name,
                "offer_state" => &mut f.offer_state,
                "currency" => &mut f.currency,
                "removal" => &mut f.removal,
                _ => continue,
            };
            *slot = value;
        }
        f
    }
}

pub(super) const ROUNDINGS: [(&str, &str); 5] = [
    ("none", "No rounding"),
    ("99", "End prices in .99"),
    ("95", "End prices in .95"),
    ("90", "End prices in .90"),
    ("0", "Whole amounts (.00)"),
];

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Basis points as a percentage the seller typed: 1000 → "10", 750 → "7.5".
fn percent(bp: i64) -> String {
    let s = format!("{:.2}", bp as f64 / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn signed_money(minor: i64) -> String {
    if minor < 0 {
        format!("-{}", Money::from_minor(-minor).to_decimal_string())
    } else {
        Money::from_minor(minor).to_decimal_string()
    }
}

/// A source as the form's (kind, name) pair.
fn source_fields(source: &FieldSource) -> (String, String) {
    match source {
        FieldSource::GlobalUniqueId => ("global_unique_id".to_owned(), String::new()),
        FieldSource::Meta(key) => ("meta".to_owned(), key.clone()),
        FieldSource::Attribute(name) => ("attribute".to_owned(), name.clone()),
    }
}

/// The form showing stored settings.
pub fn form_from(settings: &ProductSettings, sync_products: bool) -> SettingsForm {
    let on = |b: bool| b.then(|| "on".to_owned());
    let strings = |ids: &[i64]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
    let (selection, categories, tags, skus) = match &settings.selection {
        Selection::All => ("all", Vec::new(), Vec::new(), String::new()),
        Selection::Categories(ids) => ("categories", ids.clone(), Vec::new(), String::new()),
        Selection::Tags(ids) => ("tags", Vec::new(), ids.clone(), String::new()),
        Selection::Skus(skus) => ("skus", Vec::new(), Vec::new(), skus.join(", ")),
    };
    // The first source decides; WooCommerce's own GTIN field, when it follows, is the fallback
    // the form always adds.
    let (gtin_source, gtin_name) = settings.gtin_sources.first().map_or(
        ("global_unique_id".to_owned(), String::new()),
        source_fields,
    );
    let (brand_source, brand_name) = source_fields(&settings.brand_source);
    SettingsForm {
        sync_products: on(sync_products),
        selection: selection.to_owned(),
        categories: join(&categories),
        tags: join(&tags),
        category: strings(&categories),
        tag: strings(&tags),
        skus,
        use_sale_price: on(settings.price.use_sale_price),
        markup_percent: percent(settings.price.markup_percent_bp),
        markup_fixed: signed_money(settings.price.markup_fixed),
        rounding: match settings.price.rounding {
            Rounding::None => "none".to_owned(),
            Rounding::EndWith(c) => c.to_string(),
        },
        buffer: settings.stock.buffer.to_string(),
        maximum: settings
            .stock
            .maximum
            .map(|m| m.to_string())
            .unwrap_or_default(),
        out_of_stock_below: settings.stock.out_of_stock_below.to_string(),
        unmanaged_quantity: settings.stock.unmanaged_quantity.to_string(),
        backorder_as_in_stock: on(settings.stock.backorder_as_in_stock),
        product_id_type: match settings.product_id_type {
            ProductIdType::Gtin => "gtin",
            ProductIdType::ShopSku => "shop_sku",
        }
        .to_owned(),
        gtin_source,
        gtin_name,
        brand_source,
        brand_name,
        offer_state: settings.offer_state.clone(),
        currency: settings.currency.as_str().to_owned(),
        removal: match settings.removal {
            RemovalPolicy::Delete => "delete",
            RemovalPolicy::ZeroStock => "zero_stock",
        }
        .to_owned(),
    }
}

/// The form field a domain setting is shown at (`stock.buffer` → `buffer`).
fn form_field(setting: &'static str) -> &'static str {
    match setting {
        "gtin_sources" => "gtin",
        "brand_source" => "brand",
        "price.markup_percent" => "markup_percent",
        other => other.rsplit('.').next().unwrap_or(other),
    }
}

/// Parses the form into settings, or every problem found, in the seller's words, each with
/// the form field it belongs to.
pub fn parse_form(f: &SettingsForm) -> Result<ProductSettings, Vec<(&'static str, String)>> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut int = |field: &'static str, label: &str, raw: &str| -> i64 {
        match raw.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push((field, format!("{label}: enter a whole number, like 5.")));
                0
            }
        }
    };
    let buffer = int("buffer", "Stock buffer", &f.buffer);
    let out_of_stock_below = int(
        "out_of_stock_below",
        "Out of stock below",
        &f.out_of_stock_below,
    );
    let unmanaged_quantity = int(
        "unmanaged_quantity",
        "Quantity for products without stock tracking",
        &f.unmanaged_quantity,
    );
    let maximum = if f.maximum.trim().is_empty() {
        None
    } else {
        Some(int("maximum", "Maximum quantity", &f.maximum))
    };
    // Ticked boxes and typed IDs together, each ID once.
    let ids = |field: &'static str,
               label: &str,
               typed: &str,
               ticked: &[String],
               errors: &mut Vec<(&'static str, String)>|
     -> Vec<i64> {
        let mut ids: Vec<i64> = Vec::new();
        let typed = typed.split(',').map(str::trim).filter(|s| !s.is_empty());
        for raw in ticked.iter().map(|s| s.trim()).chain(typed) {
            match raw.parse::<i64>() {
                Ok(n) if n > 0 => {
                    if !ids.contains(&n) {
                        ids.push(n);
                    }
                }
                _ => errors.push((
                    field,
                    format!("{label}: “{raw}” is not an ID; use the numbers WooCommerce shows."),
                )),
            }
        }
        ids
    };
    let selection = match f.selection.as_str() {
        "categories" => Selection::Categories(ids(
            "categories",
            "Category IDs",
            &f.categories,
            &f.category,
            &mut errors,
        )),
        "tags" => Selection::Tags(ids("tags", "Tag IDs", &f.tags, &f.tag, &mut errors)),
        "skus" => Selection::Skus(
            f.skus
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => Selection::All,
    };
    let markup_percent_bp = match f.markup_percent.trim().replace(',', ".").parse::<f64>() {
        Ok(p) if p.is_finite() && p.abs() < 1e6 => (p * 100.0).round() as i64,
        _ if f.markup_percent.trim().is_empty() => 0,
        _ => {
            errors.push((
                "markup_percent",
                "Markup (%): enter a number, like 10 or 7.5.".to_owned(),
            ));
            0
        }
    };
    let markup_fixed = {
        let raw = f.markup_fixed.trim();
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if digits.is_empty() {
            0
        } else {
            match Money::parse(digits) {
                Ok(m) if negative => -m.minor(),
                Ok(m) => m.minor(),
                Err(_) => {
                    errors.push((
                        "markup_fixed",
                        "Markup (fixed amount): enter an amount like 1.50 or -0.50.".to_owned(),
                    ));
                    0
                }
            }
        }
    };
    let rounding = match f.rounding.as_str() {
        "none" | "" => Rounding::None,
        cents => match cents.parse::<u8>() {
            Ok(c) => Rounding::EndWith(c),
            Err(_) => {
                errors.push((
                    "rounding",
                    "Rounding: choose one of the options.".to_owned(),
                ));
                Rounding::None
            }
        },
    };
    let currency = match Currency::parse(f.currency.trim()) {
        Ok(c) => c,
        Err(_) => {
            errors.push((
                "currency",
                "Currency: use the three-letter code, like EUR or GBP.".to_owned(),
            ));
            Currency::default()
        }
    };
    let name = |raw: &str| raw.trim().to_owned();
    let mut gtin_sources = Vec::new();
    match f.gtin_source.as_str() {
        "meta" => gtin_sources.push(FieldSource::Meta(name(&f.gtin_name))),
        "attribute" => gtin_sources.push(FieldSource::Attribute(name(&f.gtin_name))),
        _ => {}
    }
    // WooCommerce's own field is always the fallback: it is where WooCommerce 9.2+ keeps GTINs.
    gtin_sources.push(FieldSource::GlobalUniqueId);
    let brand_source = match f.brand_source.as_str() {
        "meta" => FieldSource::Meta(name(&f.brand_name)),
        _ => FieldSource::Attribute(name(&f.brand_name)),
    };
    let settings = ProductSettings {
        selection,
        price: PriceRule {
            use_sale_price: f.use_sale_price.is_some(),
            markup_percent_bp,
            markup_fixed,
            rounding,
        },
        stock: StockRule {
            buffer,
            maximum,
            out_of_stock_below,
            unmanaged_quantity,
            backorder_as_in_stock: f.backorder_as_in_stock.is_some(),
        },
        product_id_type: if f.product_id_type == "shop_sku" {
            ProductIdType::ShopSku
        } else {
            ProductIdType::Gtin
        },
        gtin_sources,
        brand_source,
        offer_state: f.offer_state.trim().to_owned(),
        currency,
        removal: if f.removal == "zero_stock" {
            RemovalPolicy::ZeroStock
        } else {
            RemovalPolicy::Delete
        },
    };
    if let Err(field_errors) = settings.validate() {
        // A number that could not be read was already named; its 0 says nothing more.
        for e in field_errors {
            let field = form_field(e.field);
            if !errors.iter().any(|(f, _)| *f == field) {
                errors.push((field, e.message));
            }
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}
