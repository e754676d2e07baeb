//! The audit log: one append-only row per mutation attempt (POST, PUT, PATCH, DELETE
//! under `/api/v1`) by an authenticated caller — who, which account and project, what
//! (the operation id from the API document), when, outcome and request id.
//!
//! It is filed by a middleware around every route rather than by each handler, so a
//! new handler cannot forget it and refused or failed attempts are recorded too. The
//! middleware names the row before the handler runs and makes it known to the task
//! serving the request; the first write transaction the handler opens
//! ([`store::db::Db::begin_write`]) inserts the row inside itself, so a change that
//! commits always commits with its audit row, whenever the process dies. After the
//! answer, the middleware writes the row's outcome and status (inserting it if no
//! transaction did: a refused attempt, or a change written without one). A row whose
//! status is 0 is one whose change committed while the process stopped before
//! answering. The final write is retried; a row that still cannot be written is
//! logged at error level with everything it would have held.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;

use crate::AppState;
use store::audit::NewAuditRow;
use store::db::{new_id, now_ms};

/// Filled by authentication so the middleware knows who acted.
#[derive(Clone, Default)]
pub struct AuditSlot(Arc<OnceLock<Actor>>);

impl AuditSlot {
    pub fn set(&self, actor: Actor) {
        // The first authentication of a request wins; later ones are the same caller.
        let _ = self.0.set(actor);
    }
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: String,
    pub user_id: String,
    pub credential: String,
}

/// Operation ids by (method, route template), read from the API document.
#[derive(Clone, Default)]
pub struct Operations(Arc<HashMap<(Method, String), String>>);

impl Operations {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut map = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                if let Some(id) = op.as_ref().and_then(|op| op.operation_id.clone()) {
                    map.insert((method, path.clone()), id);
                }
            }
        }
        Self(Arc::new(map))
    }
}

/// An audit row named before its handler runs; its actor is known once the request
/// is authenticated.
pub struct Pending {
    id: String,
    slot: AuditSlot,
    project_id: Option<String>,
    action: String,
    method: Method,
    path: String,
    request_id: String,
    created_at: i64,
}

/// Files the request's audit row inside each write transaction its handler begins
/// (once: a repeat does nothing); before authentication it files nothing.
impl store::db::WriteHook for Pending {
    fn file_in<'a>(&'a self, tx: &'a mut store::db::Tx) -> store::audit::Filed<'a> {
        let Some(actor) = self.slot.0.get() else {
            return Box::pin(async { Ok(()) });
        };
        // Status 0 until the answer is known; the outcome is success if this commits.
        store::audit::file_in(
            tx,
            NewAuditRow {
                id: &self.id,
                account_id: &actor.account_id,
                project_id: self.project_id.as_deref(),
                actor_user_id: &actor.user_id,
                actor_credential: &actor.credential,
                action: &self.action,
                method: self.method.as_str(),
                path: &self.path,
                outcome: "success",
                status: 0,
                request_id: &self.request_id,
                created_at: self.created_at,
            },
        )
    }
}

#[derive(Clone)]
pub struct AuditLayer {
    pub state: AppState,
    pub operations: Operations,
}

/// Operations sent as POST (their input is a body) that change nothing: not audited.
const READS_BY_POST: &[&str] = &["preview_cost", "preview_order"];

pub async fn record_mutations(
    State(layer): State<AuditLayer>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    if !matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let path = req.uri().path().to_owned();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("")
        .to_owned();
    let action = layer
        .operations
        .0
        .get(&(method.clone(), template))
        .cloned()
        .unwrap_or_else(|| "unknown".to_owned());
    if READS_BY_POST.contains(&action.as_str()) {
        return next.run(req).await;
    }
    let pending = Arc::new(Pending {
        id: new_id(),
        slot: slot.clone(),
        project_id: project_of(&path),
        action,
        method,
        path,
        request_id,
        created_at: now_ms(),
    });
    let response = store::db::with_write_hook(pending.clone(), next.run(req)).await;
    let Some(actor) = slot.0.get() else {
        // Nobody authenticated: there is no tenant to file the attempt under.
        return response;
    };
    let status = response.status();
    let outcome = if status.is_success() {
        "success"
    } else if status == 401 || status == 403 {
        "denied"
    } else {
        "failed"
    };
    let entry = Entry {
        actor,
        project_id: pending.project_id.clone(),
        action: pending.action.clone(),
        method: pending.method.as_str(),
        path: &pending.path,
        outcome,
        status: i64::from(status.as_u16()),
        request_id: &pending.request_id,
    };
    entry
        .write_as(&layer.state, &pending.id, pending.created_at)
        .await;
    response
}

/// `/api/v1/projects/{id}/...` names the project every such route acts on.
fn project_of(path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some("api"), Some("v1"), Some("projects"), Some(id)) if !id.is_empty() => {
            Some(id.to_owned())
        }
        _ => None,
    }
}

pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub project_id: Option<String>,
    pub action: String,
    pub method: &'a str,
    pub path: &'a str,
    pub outcome: &'a str,
    pub status: i64,
    pub request_id: &'a str,
}

impl Entry<'_> {
    /// Appends the row, retrying a few times; never fails the request it describes.
    pub async fn write(&self, state: &AppState) {
        self.write_as(state, &new_id(), now_ms()).await;
    }

    /// Writes row `id`, or its outcome and status if a transaction already filed it.
    async fn write_as(&self, state: &AppState, id: &str, now: i64) {
        let mut delay = Duration::from_millis(20);
        for attempt in 1..=4 {
            let written = store::audit::write(
                &state.db,
                &NewAuditRow {
                    id,
                    account_id: &self.actor.account_id,
                    project_id: self.project_id.as_deref(),
                    actor_user_id: &self.actor.user_id,
                    actor_credential: &self.actor.credential,
                    action: &self.action,
                    method: self.method,
                    path: self.path,
                    outcome: self.outcome,
                    status: self.status,
                    request_id: self.request_id,
                    created_at: now,
                },
            )
            .await;
            match written {
                Ok(_) => return,
                Err(e) if attempt < 4 => {
                    tracing::warn!(error = %e, attempt, "audit row not written yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 3;
                }
                Err(e) => tracing::error!(
                    error = %e, account = %self.actor.account_id, user = %self.actor.user_id,
                    action = %self.action, path = %self.path, outcome = self.outcome,
                    "audit row lost after retries"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::project_of;

    #[test]
    fn the_project_is_read_from_project_routes_only() {
        assert_eq!(
            project_of("/api/v1/projects/p1/jobs").as_deref(),
            Some("p1")
        );
        assert_eq!(project_of("/api/v1/projects/p1").as_deref(), Some("p1"));
        assert_eq!(project_of("/api/v1/projects"), None);
        assert_eq!(project_of("/api/v1/tokens/t1"), None);
    }
}
