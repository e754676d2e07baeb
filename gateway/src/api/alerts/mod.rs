//! A project's alerting: contact groups (emails and the account's notification
//! channels) with a test send, alert rules, silences, and the alert history. Viewers
//! read; editors write rules and silences; project admins manage contact groups, which
//! hold people's addresses.

pub mod groups;
pub mod history;
pub mod rules;
pub mod silences;

use axum::http::StatusCode;
use store::Error;

use crate::error::ApiResult;
use crate::AppState;

/// Deletes a row of `table` (one of this module's) by id, within the project only.
pub(super) async fn delete_in_project(
    state: &AppState,
    table: &'static str,
    id: &str,
    project_id: &str,
    what: &str,
) -> ApiResult<StatusCode> {
    let done = sqlx::query(&format!(
        "delete from {table} where id = $1 and project_id = $2"
    ))
    .bind(id)
    .bind(project_id)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(what).into());
    }
    Ok(StatusCode::NO_CONTENT)
}
