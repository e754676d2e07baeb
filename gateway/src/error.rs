//! The API's one error type. The HTTP status lives in the value; every error,
//! including malformed JSON and unknown routes, leaves as the same body:
//! `{"error":{"code":"...","message":"...","field":"...","limit":20}}`.
//! Database and unexpected errors become an opaque 500 whose detail is logged
//! (with the request id from the span), never sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `limit_exceeded`, `invalid_field`, `not_found`.
    pub code: &'static str,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// The request field (or, for `limit_exceeded`, the limit setting) concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The limit that was reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: ErrorDetail {
                code,
                message: message.into(),
                field: None,
                limit: None,
            },
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.detail.field = Some(field.into());
        self
    }

    /// A value that parsed but breaks a rule: names the field and the rule.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    /// Also used for objects of other tenants: their existence is not disclosed.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn already_exists(field: &str, message: impl Into<String>) -> Self {
        Self::conflict("already_exists", message).with_field(field)
    }

    pub fn limit_exceeded(name: &'static str, limit: i64, message: impl Into<String>) -> Self {
        let mut e = Self::conflict("limit_exceeded", message).with_field(name);
        e.detail.limit = Some(limit);
        e
    }

    pub fn too_large(limit: i64, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message);
        e.detail.limit = Some(limit);
        e
    }

    /// The caller may see the object but their role does not allow the action.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// Logs the cause with the current span (and so the request id) and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log for this request id",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(ErrorBody { error: self.detail })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // Uniqueness is checked before insert inside a locked transaction; this is the
            // backstop should a check ever be missed, so the client still gets a 409.
            if db.is_unique_violation() {
                return ApiError::conflict(
                    "already_exists",
                    "an object with the same name already exists",
                );
            }
            if db.is_foreign_key_violation() {
                return ApiError::conflict("in_use", "the object is referenced by another object or refers to one that no longer exists");
            }
        }
        ApiError::internal(err)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(err: std::io::Error) -> Self {
        ApiError::internal(err)
    }
}
