//! Cursor pagination. Ids are UUIDv7, so ordering by id is ordering by creation and the
//! last id of a page is a stable cursor: inserts and deletes never shift a page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use store::Error;

/// Reads cursors as leniently as the document describes them: any unpadded base64url
/// text (`B64` alone refuses non-zero trailing bits).
const CURSOR: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use store::Page;

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("limit must be between 1 and {MAX_PAGE}, got {limit}"),
            ));
        }
        let after = match &self.cursor {
            None => String::new(),
            // A cursor only says "ids after this one": any base64url text is one, and
            // what it decodes to is bound to queries as text without a NUL.
            Some(c) => CURSOR
                .decode(c)
                .map(|b| String::from_utf8_lossy(&b).replace('\0', ""))
                .map_err(|_| Error::invalid("cursor", "cursor is not one this API returned"))?,
        };
        Ok(Page { limit, after })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// `rows` were fetched with `limit + 1`: the extra row only tells that more exist.
    pub fn from_rows(mut rows: Vec<T>, page: &Page, id: impl Fn(&T) -> &str) -> Self {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| B64.encode(id(r)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}
