//! What a test reads back: a raw response ([`Res`]) or a typed client's result
//! ([`ApiResult`]), with assertions on each.

use reqwest::StatusCode;
use serde_json::Value;

use crate::api;
use sluice_client::ResponseValue;

/// A response: status, headers and body (JSON when it parses, else a string).
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {:?}", self.body))
            .to_owned()
    }
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
    /// Asserts the error message says `text`.
    #[track_caller]
    pub fn assert_message_contains(self, text: &str) -> Self {
        assert!(
            self.message().contains(text),
            "the message does not say `{text}`; body: {}",
            self.body
        );
        self
    }
    /// Asserts an API error: status, code and (when given) the field.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        if let Some(field) = field {
            assert_eq!(self.field(), field, "unexpected field; body: {}", self.body);
        }
        assert!(
            !self.message().is_empty(),
            "error without a message: {}",
            self.body
        );
        self
    }
}

/// What an operation of the typed client returns: the documented success, or an error
/// (a documented error response carries the API's error body).
pub type ApiResult<T> = Result<ResponseValue<T>, sluice_client::Error<api::ErrorBody>>;

/// Assertions on what an operation of the typed client returned, like [`Res`]'s.
pub trait Expect<T> {
    /// Asserts a success with this status and returns it.
    fn expect_status(self, status: u16) -> ResponseValue<T>;
    /// Asserts an API error: status, code and (when given) the field.
    fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> api::ErrorDetail;
}

impl<T: std::fmt::Debug> Expect<T> for ApiResult<T> {
    #[track_caller]
    fn expect_status(self, status: u16) -> ResponseValue<T> {
        match self {
            Ok(res) => {
                assert_eq!(res.status().as_u16(), status, "unexpected status: {res:?}");
                res
            }
            Err(error) => panic!("expected {status}, got {error:?}"),
        }
    }

    #[track_caller]
    fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> api::ErrorDetail {
        let res = match self {
            Err(sluice_client::Error::ErrorResponse(res)) => res,
            other => panic!("expected the error {status} {code}, got {other:?}"),
        };
        assert_eq!(res.status().as_u16(), status, "unexpected status: {res:?}");
        let error = res.into_inner().error;
        assert_eq!(error.code, code, "unexpected code: {error:?}");
        if let Some(field) = field {
            assert_eq!(
                error.field.as_deref(),
                Some(field),
                "unexpected field: {error:?}"
            );
        }
        assert!(
            !error.message.is_empty(),
            "error without a message: {error:?}"
        );
        error
    }
}

/// The `ETag` of a typed response (empty when there is none).
pub fn etag<T>(res: &ResponseValue<T>) -> String {
    res.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// An optional value of a constrained string type of the typed client (a name, a message):
/// `.message(some("first"))`.
#[track_caller]
pub fn some<T: std::str::FromStr>(text: &str) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    match text.parse() {
        Ok(value) => Some(value),
        Err(error) => panic!("{text:?} is not valid here: {error}"),
    }
}

/// A SQL job's content, as the typed client sends it.
pub fn sql(sql: &str) -> api::JobContent {
    api::JobContent::Sql {
        sql: sql.to_owned(),
    }
}
