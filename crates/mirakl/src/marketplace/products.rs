//! Products a shop brings to the operator's catalog: the catalog configuration that decides the
//! columns of a product file (H11 hierarchies, PM11 attributes, VL11 values lists), and product
//! imports (P41 file, tracked with P42 and P44).
//!
//! Mirakl allows the configuration reads once an hour and P41 once every 15 minutes per shop;
//! callers keep the configuration rather than read it before every import.

use domain::{InstanceUrl, StoreId};
use reqwest::multipart::Form;
use serde::Deserialize;
use serde::de::Deserializer;

use super::error_report::ImportErrorLine;
use super::imports::{ImportId, csv_file_part};
use super::{Call, Credential, MarketplaceClient, MarketplaceError, Payload};
use crate::wire::{non_empty, null_as_default};

/// A category of the operator's catalog (H11).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Hierarchy {
    pub code: String,
    /// Empty when Mirakl sends none (the spec does not require it).
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
    /// The depth in the tree, as Mirakl counts it.
    pub level: u32,
    /// `None` for a top category, which Mirakl sends with an empty parent code.
    #[serde(default, deserialize_with = "non_empty")]
    pub parent_code: Option<String>,
}

/// How much the operator wants an attribute filled (PM11 `requirement_level`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequirementLevel {
    /// A product without it is refused.
    Required,
    /// Accepted without it, but the operator asks for it.
    Recommended,
    #[default]
    Optional,
    /// Not to be sent.
    Disabled,
}

impl RequirementLevel {
    /// Mirakl's name for the level, e.g. `REQUIRED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "REQUIRED",
            Self::Recommended => "RECOMMENDED",
            Self::Optional => "OPTIONAL",
            Self::Disabled => "DISABLED",
        }
    }

    /// A level Mirakl adds later reads as optional: the product goes out with what it has and
    /// the P44 report says if the operator wanted more.
    fn from_wire(level: &str) -> Self {
        match level.trim().to_ascii_uppercase().as_str() {
            "REQUIRED" => Self::Required,
            "RECOMMENDED" => Self::Recommended,
            "DISABLED" => Self::Disabled,
            _ => Self::Optional,
        }
    }
}

/// An attribute of the operator's products (PM11): one column of a P41 file, named by `code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductAttribute {
    pub code: String,
    pub label: String,
    /// PM11 `requirement_level`; the deprecated `required` flag when an instance sends only
    /// that.
    pub requirement_level: RequirementLevel,
    /// PM11 `type`: `TEXT`, `LONG_TEXT`, `LIST`, `MEDIA`, `DATE`, … (operator-defined).
    pub type_: String,
    /// The VL11 list a list attribute takes its values from: the `LIST_CODE` entry of PM11
    /// `type_parameters`, else the deprecated `values_list`, else the deprecated
    /// `type_parameter` of a `LIST…` type.
    pub values_list: Option<String>,
    /// The `type` of each PM11 role, e.g. `SHOP_SKU`, `TITLE`, `CATEGORY`, `MAIN_IMAGE`,
    /// `UNIQUE_IDENTIFIER`: what the attribute means to Mirakl, whatever its code.
    pub roles: Vec<String>,
    pub description: Option<String>,
    /// The H11 category the attribute belongs to; `None` when it is shared by all.
    pub hierarchy_code: Option<String>,
}

impl ProductAttribute {
    /// Whether one of the attribute's roles is `role`, e.g. `SHOP_SKU`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|own| own.eq_ignore_ascii_case(role))
    }
}

/// PM11's attribute as sent; only the fields [`ProductAttribute`] keeps.
#[derive(Deserialize)]
struct WireAttribute {
    code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    label: String,
    #[serde(default, deserialize_with = "non_empty")]
    requirement_level: Option<String>,
    /// Deprecated by Mirakl in favour of `requirement_level`.
    #[serde(default)]
    required: Option<bool>,
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    type_: String,
    #[serde(default, deserialize_with = "null_as_default")]
    type_parameters: Vec<NameValue>,
    /// Deprecated by Mirakl in favour of `type_parameters`.
    #[serde(default, deserialize_with = "non_empty")]
    type_parameter: Option<String>,
    /// Deprecated by Mirakl in favour of `type_parameters`.
    #[serde(default, deserialize_with = "non_empty")]
    values_list: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    roles: Vec<Role>,
    #[serde(default, deserialize_with = "non_empty")]
    description: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    hierarchy_code: Option<String>,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    #[serde(default, deserialize_with = "non_empty")]
    value: Option<String>,
}

#[derive(Deserialize)]
struct Role {
    #[serde(rename = "type")]
    type_: String,
}

impl From<WireAttribute> for ProductAttribute {
    fn from(wire: WireAttribute) -> Self {
        let requirement_level = match (wire.requirement_level, wire.required) {
            (Some(level), _) => RequirementLevel::from_wire(&level),
            (None, Some(true)) => RequirementLevel::Required,
            (None, _) => RequirementLevel::Optional,
        };
        let list_code = wire
            .type_parameters
            .into_iter()
            .find(|parameter| parameter.name.eq_ignore_ascii_case("LIST_CODE"))
            .and_then(|parameter| parameter.value);
        // `type_parameter` also holds a date format or a media size for other types.
        let is_list = wire.type_.to_ascii_uppercase().starts_with("LIST");
        let values_list = list_code
            .or(wire.values_list)
            .or(wire.type_parameter.filter(|_| is_list));
        Self {
            code: wire.code,
            label: wire.label,
            requirement_level,
            type_: wire.type_,
            values_list,
            roles: wire.roles.into_iter().map(|role| role.type_).collect(),
            description: wire.description,
            hierarchy_code: wire.hierarchy_code,
        }
    }
}

/// An operator's values list (VL11): the values a list attribute accepts.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ValuesList {
    pub code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Vec<ListValue>,
}

/// One value of a [`ValuesList`]: `code` goes in the product file, `label` is for people.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ListValue {
    pub code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
}

/// Where a product import stands (P42 `import_status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductImportStatus {
    /// The file waits for Mirakl's Catalog Transformer (a file in the seller's own format).
    TransformationWaiting,
    TransformationRunning,
    TransformationFailed,
    Waiting,
    Running,
    /// Sent to the operator, who integrates the products.
    Sent,
    Complete,
    Cancelled,
    Failed,
    /// A status Mirakl added after this was written.
    Other(String),
}

impl ProductImportStatus {
    /// Mirakl's name for the status, e.g. `COMPLETE`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::TransformationWaiting => "TRANSFORMATION_WAITING",
            Self::TransformationRunning => "TRANSFORMATION_RUNNING",
            Self::TransformationFailed => "TRANSFORMATION_FAILED",
            Self::Waiting => "WAITING",
            Self::Running => "RUNNING",
            Self::Sent => "SENT",
            Self::Complete => "COMPLETE",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
            Self::Other(status) => status,
        }
    }
}

impl From<String> for ProductImportStatus {
    fn from(status: String) -> Self {
        match status.as_str() {
            "TRANSFORMATION_WAITING" => Self::TransformationWaiting,
            "TRANSFORMATION_RUNNING" => Self::TransformationRunning,
            "TRANSFORMATION_FAILED" => Self::TransformationFailed,
            "WAITING" => Self::Waiting,
            "RUNNING" => Self::Running,
            "SENT" => Self::Sent,
            "COMPLETE" => Self::Complete,
            "CANCELLED" => Self::Cancelled,
            "FAILED" => Self::Failed,
            _ => Self::Other(status),
        }
    }
}

impl<'de> Deserialize<'de> for ProductImportStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// P42: a product import. Mirakl fills the report flags only once the import is `COMPLETE`
/// (`SENT` for the transformation reports); until then they read `false`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProductImport {
    pub import_id: ImportId,
    #[serde(rename = "import_status")]
    pub status: ProductImportStatus,
    /// Why the import has its status, when Mirakl says.
    #[serde(default, deserialize_with = "non_empty")]
    pub reason_status: Option<String>,
    /// Whether P44 lists products that were not integrated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub has_error_report: bool,
    /// Whether P45 lists products new to the catalog.
    #[serde(default, deserialize_with = "null_as_default")]
    pub has_new_product_report: bool,
    /// Whether P47 lists lines the Catalog Transformer could not convert.
    #[serde(default, deserialize_with = "null_as_default")]
    pub has_transformation_error_report: bool,
}

impl ProductImport {
    /// Whether Mirakl is done with the import: its reports are final.
    ///
    /// A status this crate does not know counts as unfinished, so a caller polling with a
    /// deadline never reads the reports of an import still running.
    pub fn is_finished(&self) -> bool {
        match self.status {
            ProductImportStatus::Complete
            | ProductImportStatus::Cancelled
            | ProductImportStatus::Failed
            | ProductImportStatus::TransformationFailed => true,
            ProductImportStatus::TransformationWaiting
            | ProductImportStatus::TransformationRunning
            | ProductImportStatus::Waiting
            | ProductImportStatus::Running
            | ProductImportStatus::Sent
            | ProductImportStatus::Other(_) => false,
        }
    }

    /// Whether the file as a whole came to nothing (failed, or cancelled): no product of it was
    /// integrated, and [`Self::reason_status`] says why when Mirakl does. A `COMPLETE` import
    /// may still have refused some products; they are in P44.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            ProductImportStatus::Cancelled
                | ProductImportStatus::Failed
                | ProductImportStatus::TransformationFailed
        )
    }
}

impl MarketplaceClient {
    /// H11 `GET {instance}/api/hierarchies`: the operator's whole category tree.
    pub async fn hierarchies(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<Vec<Hierarchy>, MarketplaceError> {
        #[derive(Deserialize)]
        struct Hierarchies {
            hierarchies: Vec<Hierarchy>,
        }
        let call = Call::get(vec!["hierarchies"]);
        let tree: Hierarchies = self.call_json(instance, credential, shop_id, call).await?;
        Ok(tree.hierarchies)
    }

    /// PM11 `GET {instance}/api/products/attributes`: every attribute of every category, i.e.
    /// the columns a P41 file may have.
    pub async fn product_attributes(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<Vec<ProductAttribute>, MarketplaceError> {
        #[derive(Deserialize)]
        struct Attributes {
            attributes: Vec<WireAttribute>,
        }
        let call = Call::get(vec!["products", "attributes"]);
        let attributes: Attributes = self.call_json(instance, credential, shop_id, call).await?;
        Ok(attributes.attributes.into_iter().map(Into::into).collect())
    }

    /// VL11 `GET {instance}/api/values_lists`: every values list of the operator.
    pub async fn values_lists(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<Vec<ValuesList>, MarketplaceError> {
        #[derive(Deserialize)]
        struct ValuesLists {
            values_lists: Vec<ValuesList>,
        }
        let call = Call::get(vec!["values_lists"]);
        let lists: ValuesLists = self.call_json(instance, credential, shop_id, call).await?;
        Ok(lists.values_lists)
    }

    /// P41 `POST {instance}/api/products/imports`: uploads a product file (see
    /// [`crate::products_file::write_products_csv`]) as `file` (`products.csv`, `text/csv`).
    ///
    /// The columns are PM11 attribute codes, i.e. the operator's format, so `operator_format`
    /// is set: a shop with Mirakl's Catalog Transformer on would otherwise have the file
    /// converted as if it were in the seller's own format. Mirakl answers at once; follow the
    /// import with [`Self::product_import`].
    pub async fn import_products(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        csv: Vec<u8>,
    ) -> Result<ImportId, MarketplaceError> {
        let form = Form::new()
            .part("file", csv_file_part(csv, "products.csv"))
            .text("operator_format", "true");
        let call = Call::post(vec!["products", "imports"], Payload::Multipart(form));
        self.start_import(instance, credential, shop_id, call).await
    }

    /// P42 `GET {instance}/api/products/imports/{id}`: where the product import stands.
    pub async fn product_import(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        id: &ImportId,
    ) -> Result<ProductImport, MarketplaceError> {
        let call = Call::get(vec!["products", "imports", id.as_str()]);
        self.call_json(instance, credential, shop_id, call).await
    }

    /// P44 `GET {instance}/api/products/imports/{id}/error_report`: the products Mirakl did not
    /// integrate, with its reason for each, their SKU read from the column `sku_column` (the
    /// attribute code the file gave the seller's SKU). An import without a report (404) has no
    /// products in error.
    pub async fn product_import_errors(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        id: &ImportId,
        sku_column: &str,
    ) -> Result<Vec<ImportErrorLine>, MarketplaceError> {
        let segments = vec!["products", "imports", id.as_str(), "error_report"];
        self.import_errors(instance, credential, shop_id, segments, &[sku_column])
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attribute(wire: serde_json::Value) -> ProductAttribute {
        serde_json::from_value::<WireAttribute>(wire)
            .unwrap()
            .into()
    }

    #[test]
    fn pm11s_example_list_attribute_names_its_values_list() {
        // PM11's own example: a list whose code is only in the deprecated `type_parameter`.
        let tools = attribute(json!({
            "channels": [{"code": "WEBSITE_FR"}], "code": "toolsIncluded3",
            "default_value": null, "description": "Are tools included",
            "example": null, "hierarchy_code": "5610102", "label": "Tools Included",
            "requirement_level": "OPTIONAL", "roles": [], "type": "LIST",
            "type_parameter": "Boolean", "variant": false
        }));
        assert_eq!(tools.values_list.as_deref(), Some("Boolean"));
        assert_eq!(tools.hierarchy_code.as_deref(), Some("5610102"));
        assert_eq!(tools.requirement_level, RequirementLevel::Optional);

        let color = attribute(json!({
            "code": "color", "label": "Color", "requirement_level": "REQUIRED",
            "type": "LIST", "type_parameter": "old", "values_list": "older",
            "type_parameters": [{"name": "LIST_CODE", "value": "colors"}],
            "roles": [{"type": "VARIANT_AXIS", "parameters": []}], "hierarchy_code": ""
        }));
        assert_eq!(color.values_list.as_deref(), Some("colors"));
        assert_eq!(color.requirement_level, RequirementLevel::Required);
        assert!(color.has_role("variant_axis"));
        assert_eq!(color.hierarchy_code, None, "empty means shared by all");
    }

    #[test]
    fn a_type_parameter_of_another_type_is_no_values_list() {
        let date = attribute(json!({
            "code": "release", "label": "Release", "requirement_level": "OPTIONAL",
            "type": "DATE", "type_parameter": "yyyy-MM-dd", "type_parameters": null,
            "roles": null, "description": ""
        }));
        assert_eq!(date.values_list, None);
        assert!(date.roles.is_empty());
        assert_eq!(date.description, None);
    }

    #[test]
    fn requirement_levels_fall_back_to_the_deprecated_flag_then_to_optional() {
        let level = |wire| attribute(wire).requirement_level;
        assert_eq!(
            level(json!({"code": "a", "required": true})),
            RequirementLevel::Required
        );
        assert_eq!(
            level(json!({"code": "a", "requirement_level": "disabled"})),
            RequirementLevel::Disabled
        );
        assert_eq!(
            level(json!({"code": "a", "requirement_level": "MANDATORY_SOMEDAY"})),
            RequirementLevel::Optional
        );
    }

    #[test]
    fn p42s_example_is_sent_but_not_finished() {
        let import: ProductImport = serde_json::from_value(json!({
            "date_created": "2019-04-05T12:56:21Z", "has_error_report": false,
            "has_new_product_report": null, "has_transformation_error_report": false,
            "has_transformed_file": true, "import_id": 2005, "import_status": "SENT",
            "shop_id": 2000, "transform_lines_in_error": 0
        }))
        .unwrap();
        assert_eq!(import.import_id.as_str(), "2005");
        assert_eq!(import.status, ProductImportStatus::Sent);
        assert!(!import.is_finished());
        assert!(!import.failed());
        assert!(!import.has_new_product_report);
    }

    #[test]
    fn terminal_statuses_are_finished_and_only_complete_is_not_failed() {
        let import = |status: &str| ProductImport {
            import_id: ImportId::from("1".to_owned()),
            status: ProductImportStatus::from(status.to_owned()),
            reason_status: None,
            has_error_report: false,
            has_new_product_report: false,
            has_transformation_error_report: false,
        };
        for status in ["COMPLETE", "CANCELLED", "FAILED", "TRANSFORMATION_FAILED"] {
            assert!(import(status).is_finished(), "{status}");
            assert_eq!(import(status).failed(), status != "COMPLETE", "{status}");
        }
        for status in [
            "TRANSFORMATION_WAITING",
            "TRANSFORMATION_RUNNING",
            "WAITING",
            "RUNNING",
            "SENT",
            "QUEUED",
        ] {
            assert!(!import(status).is_finished(), "{status}");
            assert_eq!(import(status).status.as_str(), status);
        }
    }
}
