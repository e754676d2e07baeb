//! Generates the client from frontend/openapi.json. The gateway writes OpenAPI 3.1 (utoipa);
//! progenitor reads 3.0, so the document is first rewritten into the 3.0 form of the same
//! schemas (see `to_openapi_3_0`).

use std::path::Path;

use serde_json::{json, Map, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/openapi.json");
    println!("cargo:rerun-if-changed={}", source.display());
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&source)?)?;
    to_openapi_3_0(&mut doc);
    if let Some(left) = find_3_1(&doc) {
        return Err(format!("a 3.1 construct build.rs does not rewrite yet: {left}").into());
    }
    let spec: openapiv3::OpenAPI = serde_json::from_value(doc)?;
    let mut settings = progenitor::GenerationSettings::new();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    // Responses are compared whole in tests.
    settings.with_derive("PartialEq");
    // Most strings in the document are constrained only to hold no NUL character (the
    // gateway refuses those everywhere). Left alone, each such field would get a newtype
    // of its own, and every id or text a caller passes a fallible conversion; the client
    // sends them as plain strings and leaves the check to the server.
    let no_nul = serde_json::from_value(json!({ "type": "string", "pattern": "^[^\\u0000]*$" }))?;
    settings.with_conversion(
        no_nul,
        "::std::string::String",
        [
            progenitor::TypeImpl::FromStr,
            progenitor::TypeImpl::FromStringIrrefutable,
            progenitor::TypeImpl::Display,
            progenitor::TypeImpl::Default,
        ]
        .into_iter(),
    );
    let tokens = progenitor::Generator::new(&settings).generate_tokens(&spec)?;
    let code = prettyplease::unparse(&syn::parse2(tokens)?);
    let out = Path::new(&std::env::var("OUT_DIR")?).join("sluice_api.rs");
    std::fs::write(out, code)?;
    Ok(())
}

/// Rewrites the 3.1 constructs the document uses into their 3.0 equivalents:
/// - `type: [T, "null"]` becomes `type: T, nullable: true`;
/// - `oneOf: [{type: null}, S]` (an optional reference) becomes `allOf: [S], nullable: true`,
///   the sibling keywords of the reference (a description) moving to the outer schema;
/// - `propertyNames` (not in 3.0; always `{type: string}` here, which every JSON key is)
///   is dropped.
///
/// Operations whose request body is multipart (an artifact's upload) are left out:
/// progenitor cannot send multipart bodies.
fn to_openapi_3_0(doc: &mut Value) {
    doc["openapi"] = json!("3.0.3");
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            if let Value::Object(operations) = item {
                operations.retain(|_, op| {
                    op["requestBody"]["content"]
                        .get("multipart/form-data")
                        .is_none()
                });
            }
        }
    }
    rewrite(doc);
}

fn rewrite(value: &mut Value) {
    match value {
        Value::Object(map) => {
            nullable_type(map);
            nullable_one_of(map);
            map.remove("propertyNames");
            map.values_mut().for_each(rewrite);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

/// A schema whose `type` 3.0 cannot say (a list, or `null`), which openapiv3 would
/// otherwise read as a schema of any type.
fn find_3_1(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => match map.get("type") {
            Some(Value::Array(_)) => Some(value),
            Some(t) if t == "null" => Some(value),
            _ => map.values().find_map(find_3_1),
        },
        Value::Array(items) => items.iter().find_map(find_3_1),
        _ => None,
    }
}

fn nullable_type(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    if rest.len() == 1 && rest.len() < types.len() {
        map.insert("type".into(), rest[0].clone());
        map.insert("nullable".into(), json!(true));
    }
}

fn nullable_one_of(map: &mut Map<String, Value>) {
    let Some(Value::Array(alternatives)) = map.get("oneOf") else {
        return;
    };
    let null = json!({ "type": "null" });
    let rest: Vec<Value> = alternatives
        .iter()
        .filter(|s| **s != null)
        .cloned()
        .collect();
    if let ([Value::Object(inner)], true) = (&rest[..], rest.len() < alternatives.len()) {
        let mut inner = inner.clone();
        map.remove("oneOf");
        if let Some(reference) = inner.remove("$ref") {
            for (key, sibling) in inner {
                map.entry(key).or_insert(sibling);
            }
            map.insert("allOf".into(), json!([{ "$ref": reference }]));
        } else {
            map.extend(inner);
        }
        map.insert("nullable".into(), json!(true));
    }
}
