//! The HTTP edge of the domain error: every error, including malformed JSON and unknown
//! routes, leaves as the same body:
//! `{"error":{"code":"...","message":"...","field":"...","limit":20}}`.
//! Below the edge everything returns [`store::Error`]; [`status_of`] is the one place a
//! kind of failure becomes an HTTP status. Internal errors were logged where they
//! happened (with the request id from the span) and reach the client as an opaque 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::{Error, Kind};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// A script's own mistakes, each at its line and column (a draft that cannot be
    /// debugged as it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<engine_client::script::ScriptError>>,
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

/// An error on its way out: a status and the body's detail.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The HTTP status of each kind of failure.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Malformed => StatusCode::BAD_REQUEST,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Upstream => StatusCode::BAD_GATEWAY,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// For what only HTTP has words for (a method not allowed, a missing `If-Match`).
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
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self {
            status: status_of(e.kind),
            detail: ErrorDetail {
                code: e.code,
                message: e.message,
                field: e.field,
                limit: e.limit,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: self.detail,
                errors: None,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<std::io::Error> for ApiError {
    fn from(err: std::io::Error) -> Self {
        Error::from(err).into()
    }
}

/// A domain error as the response of a handler or middleware that returns a plain
/// `Response`.
pub fn respond(e: Error) -> Response {
    ApiError::from(e).into_response()
}
