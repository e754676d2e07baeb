//! What every operation can answer besides its own results, stated in the API document
//! in one place instead of on each handler: the document is a contract (a fuzzer holds
//! the server to it), so each answer the shared machinery can give is listed where it
//! can happen.
//!
//! - a credential is checked on every operation not marked public: 401 without a valid
//!   one, 403 when the caller's role (or a token narrowed elsewhere) does not allow it;
//! - an id in the path that names nothing the caller may see: 404 (also a NUL in it);
//! - a query string the parameters do not describe, or a value out of range: 422;
//! - a body that is not JSON (400), not sent as JSON (415), too large (413), or not
//!   what the operation takes (422);
//! - an `If-Match` the operation needs but did not get: 428 (412 is documented where
//!   the operation compares it).
//!
//! Rules the shared machinery applies to every operation's input are stated here too:
//! every `limit` is a page size bounded to 1..=200 and every `cursor` is the base64url
//! text a page returned (`pagination`); `from` and `to` in a query are RFC 3339
//! instants; a body whose fields are all optional may be left out (it reads as `{}`);
//! no string of a body may hold a NUL character; and the `name` of anything created or
//! renamed is a `domain::Name` (1 to 128 characters, its pattern beside its rules).

use serde_json::{json, Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Adds the shared answers and bounds to every operation of `doc` (the `/api/v1`
/// document as JSON).
pub fn complete(doc: &mut Value) {
    constrain_request_bodies(doc);
    let global_security = doc.get("security").cloned();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                complete_operation(operation, global_security.as_ref());
            }
        }
    }
}

fn complete_operation(op: &mut Map<String, Value>, global_security: Option<&Value>) {
    let security = op.get("security").or(global_security);
    // `security: [{}]` marks a public operation.
    let secured = security.and_then(Value::as_array).is_some_and(|reqs| {
        reqs.iter()
            .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    });
    let parameters: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = |location: &str| parameters.iter().any(|p| p["in"] == location);
    let has_body = op.contains_key("requestBody");
    let mut add = Vec::new();
    if secured {
        add.push((
            "401",
            "No valid credential: sign in, or send a bearer token.",
        ));
        add.push((
            "403",
            "The caller's role, or a token narrowed to another scope, does not allow this.",
        ));
    }
    if has("path") {
        add.push(("404", "Nothing the caller may see has this id."));
    }
    if has("query") {
        add.push((
            "422",
            "A query parameter is unknown, malformed or out of range; `field` names it.",
        ));
    }
    if has_body {
        add.push(("400", "The body is not valid JSON."));
        add.push(("413", "The body is larger than this operation accepts."));
        add.push(("415", "The body was not sent as JSON."));
        add.push((
            "422",
            "The body is not what this operation takes; `field` names what is wrong.",
        ));
    }
    // 428 is answered only where `If-Match` is required; where it is optional, a
    // request without it is not refused.
    let if_match_required =
        op.get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|parameters| {
                parameters.iter().any(|p| {
                    p["in"] == "header" && p["name"] == "If-Match" && p["required"] == true
                })
            });
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(responses) = responses {
        if responses.contains_key("412") && if_match_required {
            add.push((
                "428",
                "`If-Match` is required: send the ETag of what was read.",
            ));
        }
        for (status, description) in add {
            responses.entry(status).or_insert_with(|| {
                json!({
                    "description": description,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
                })
            });
        }
    }
    if let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters {
            // A header is sent or not; it has no null to send.
            if parameter["in"] == "header" {
                if let Some(types) = parameter["schema"]["type"].as_array() {
                    let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                    if let [only] = kept.as_slice() {
                        parameter["schema"]["type"] = only.clone();
                    }
                }
                continue;
            }
            if parameter["in"] != "query" {
                continue;
            }
            match parameter["name"].as_str() {
                Some("limit") => {
                    parameter["schema"]["minimum"] = json!(1);
                    parameter["schema"]["maximum"] = json!(crate::pagination::MAX_PAGE);
                }
                Some("cursor") => parameter["schema"]["pattern"] = json!(BASE64URL),
                Some("from" | "to") if parameter["schema"]["type"] == "string" => {
                    parameter["schema"]["format"] = json!("date-time");
                }
                _ => {}
            }
        }
    }
}

/// Unpadded base64url text, as `pagination` writes cursors.
const BASE64URL: &str = "^([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?$";
/// No NUL character (PostgreSQL cannot store it; `extract::Json` refuses it).
const NO_NUL: &str = "^[^\\u0000]*$";

/// Request bodies: optional when they take no required field, NUL-free strings, and
/// names as `domain::Name` takes them.
fn constrain_request_bodies(doc: &mut Value) {
    let components = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    let mut body_schemas = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for method in METHODS {
                let Some(body) = item
                    .get_mut(method)
                    .and_then(|op| op.get_mut("requestBody"))
                else {
                    continue;
                };
                let Some(schema) = body.pointer("/content/application~1json/schema").cloned()
                else {
                    continue;
                };
                body_schemas.push(schema.clone());
                let resolved = match schema["$ref"].as_str() {
                    Some(reference) => &components[component_name(reference)],
                    None => &schema,
                };
                let required = resolved["required"]
                    .as_array()
                    .is_some_and(|fields| !fields.is_empty());
                if !required {
                    body["required"] = json!(false);
                }
            }
        }
    }
    let Some(components) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut todo: Vec<String> = body_schemas
        .iter()
        .filter_map(|s| s["$ref"].as_str().map(component_name))
        .collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = components.get_mut(&name) {
            constrain_schema(schema, true, &mut todo);
        }
    }
}

/// `type: string`, or a list of types with `string` in it (an optional field).
fn is_string(schema: &Value) -> bool {
    schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "string"))
}

fn component_name(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Adds the string rules to `schema` and its nested schemas; referenced components are
/// queued in `todo`.
fn constrain_schema(schema: &mut Value, top: bool, todo: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        todo.push(component_name(reference));
        return;
    }
    if is_string(schema)
        && schema.get("pattern").is_none()
        && schema.get("enum").is_none()
        && schema.get("format").is_none()
    {
        schema["pattern"] = json!(NO_NUL);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get_mut(key).filter(|v| v.is_object()) {
            constrain_schema(inner, false, todo);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = schema.get_mut(key).and_then(Value::as_array_mut) {
            for inner in list {
                constrain_schema(inner, top, todo);
            }
        }
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (field, inner) in properties.iter_mut() {
            if top && field == "name" && is_string(inner) {
                inner["minLength"] = json!(1);
                inner["maxLength"] = json!(store::names::MAX_NAME_CHARS);
                inner["pattern"] = json!(store::names::NAME_PATTERN);
                continue;
            }
            constrain_schema(inner, false, todo);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_answers_are_added_where_they_can_happen() {
        let mut doc = json!({
            "security": [{ "bearer": [] }],
            "paths": {
                "/api/v1/projects/{project_id}": {
                    "patch": {
                        "parameters": [
                            { "name": "project_id", "in": "path" },
                            { "name": "If-Match", "in": "header", "required": true }
                        ],
                        "requestBody": {},
                        "responses": { "200": {}, "412": {} }
                    },
                    "delete": {
                        "parameters": [
                            { "name": "project_id", "in": "path" },
                            {
                                "name": "If-Match", "in": "header", "required": false,
                                "schema": { "type": ["string", "null"] }
                            }
                        ],
                        "responses": { "204": {}, "412": {} }
                    }
                },
                "/api/v1/auth/login": {
                    "get": {
                        "security": [{}],
                        "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer" } }],
                        "responses": { "303": {} }
                    }
                }
            }
        });
        complete(&mut doc);
        let patch = &doc["paths"]["/api/v1/projects/{project_id}"]["patch"]["responses"];
        for status in [
            "200", "400", "401", "403", "404", "412", "413", "415", "422", "428",
        ] {
            assert!(patch.get(status).is_some(), "{status} missing: {patch}");
        }
        // Where `If-Match` is optional, a request without it is not refused.
        let delete = &doc["paths"]["/api/v1/projects/{project_id}"]["delete"]["responses"];
        assert!(
            delete.get("412").is_some() && delete.get("428").is_none(),
            "{delete}"
        );
        let login = &doc["paths"]["/api/v1/auth/login"]["get"];
        assert!(login["responses"].get("401").is_none());
        assert_eq!(login["parameters"][0]["schema"]["maximum"], 200);
    }
}
