//! Extractors whose rejections speak the API's error body. Request bodies are parsed
//! with `serde_path_to_error` so a type error names the field it happened at.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use store::Error;

use crate::error::ApiError;

/// A JSON request body.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        // An action that needs nothing may be sent nothing: an empty body reads as `{}`
        // (and a body that needs fields then says which one is missing).
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse_json(b"{}").map(Json).map_err(Into::into);
        }
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON, sent with `Content-Type: application/json`",
            ));
        }
        parse_json(&bytes).map(Json).map_err(Into::into)
    }
}

/// Parses a request body: JSON, an object (never an array serde could read into a
/// struct field by field), no NUL character in any string (PostgreSQL cannot store it),
/// then the type, with errors naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let document: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("the request body is not valid JSON: {e}")))?;
    if !document.is_object() {
        return Err(Error::invalid(
            "body",
            "the request body must be a JSON object",
        ));
    }
    // JSON Schema's integers include 2.0: read whole floats as integers, so an integer
    // field takes every number the document allows.
    let document = whole_floats_as_integers(document);
    if let Some(path) = nul_at(&document, String::new()) {
        let field = if path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        return Err(Error::invalid(
            field.clone(),
            format!("{field}: must not contain the NUL character"),
        ));
    }
    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        if path == "." {
            Error::invalid("body", format!("request body: {message}"))
        } else {
            Error::invalid(path.clone(), format!("{path}: {message}"))
        }
    })
}

fn whole_floats_as_integers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            // Within ±2^53 a float is exact, so the integer is the same number.
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(whole_floats_as_integers).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, whole_floats_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The path (`a.b[2]`) of the first string or key holding a NUL character.
fn nul_at(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.replace('\0', "")
            } else {
                format!("{path}.{}", key.replace('\0', ""))
            };
            if key.contains('\0') {
                Some(here)
            } else {
                nul_at(item, here)
            }
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 17" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::new(
            store::Kind::TooLarge,
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        )
        .into();
    }
    Error::malformed(format!("could not read the request body: {rejection}")).into()
}

/// Path parameters; a malformed id is answered like a missing object would be.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(Error::new(
                store::Kind::NotFound,
                "not_found",
                format!("no such object: {}", e.body_text()),
            )
            .into()),
            Err(other) => Err(Error::internal(other).into()),
        }
    }
}

/// Query string parameters.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| Error::invalid("query", e.body_text()).into())
    }
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
/// Used by PATCH bodies where `null` means "clear" (e.g. move a folder to the root).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}
