//! Orders: buying and changing a project's capacity under the subscription model.
//! Every order is planned by [`plan`], the one place that decides what may be ordered
//! and when: it loads the project (locked), lets its product form's lifecycle stage
//! refuse the kind of order, and leaves what may be ordered and what it costs to the
//! billing domain ([`billing::order::quote`], pure). Previewing plans and rolls back;
//! placing plans and stores the quote's effect ([`apply`]) in the same transaction.
//!
//! - new_purchase: N CU for M months, paid now; from then on the project's running
//!   deployments may hold at most N CU (`deployments::start_deployment`).
//! - renew: M more months at the current CU, paid now; the term is extended.
//! - upgrade: more CU for the rest of the term, the prorated difference paid now.
//! - downgrade: fewer CU (never below what running deployments hold), the prorated
//!   difference credited to the balance.
//! - renew_change: renew for M months at a new CU and change to it now for the rest of
//!   the term, in one order: the prorated difference (as upgrade or downgrade) plus the
//!   M months at the new CU, paid now. Refused wherever the product form's stage
//!   refuses a renewal or the CU change (scale-out up, scale-in down, and any
//!   configuration change).
//! - temporary_upgrade: extra CU for a window inside the term, its share of the term's
//!   price paid now; while the window is open starts may use it, and when it closes
//!   what no longer fits is stopped with a savepoint ([`enforce_capacity`]).
//! - unsubscribe: the project returns to pay-as-you-go (nothing may be running); the
//!   unused part of the term, and of temporary upgrades not yet used, is refunded per
//!   `billing.unsubscribe_refund_percent`, but what lies after the product form's end
//!   of service (EOS) in full: the platform, not the user, cut the term short there.
//!   An unsubscribe at or after EOS is allowed (EOS refuses every other order) and
//!   refunds everything paid for after the EOS instant.
//!
//! Proration takes the term's price of the changed CU and the share of the term left
//! ([`billing::prorate::remaining`]), so an upgrade and a later downgrade net to exactly
//! the time between them; `billing::order` states each rule exactly.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use billing::money::Money;
use billing::order;
use billing::period::Window;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::orders::{NewOrder, OrderDesk, Term};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::balance::parse_zone;
use store::db::{new_id, now_ms};
use store::orders::OrderKind as StoredKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    NewPurchase,
    Renew,
    Upgrade,
    Downgrade,
    /// Renew with a configuration change: `months` more months at `cu`, and `cu` for
    /// the rest of the current term.
    RenewChange,
    TemporaryUpgrade,
    Unsubscribe,
}

/// The API's names are the stored ones; the two lists are kept side by side so that a
/// kind added to one is a compile error in the other.
impl From<OrderKind> for StoredKind {
    fn from(kind: OrderKind) -> Self {
        match kind {
            OrderKind::NewPurchase => Self::NewPurchase,
            OrderKind::Renew => Self::Renew,
            OrderKind::Upgrade => Self::Upgrade,
            OrderKind::Downgrade => Self::Downgrade,
            OrderKind::RenewChange => Self::RenewChange,
            OrderKind::TemporaryUpgrade => Self::TemporaryUpgrade,
            OrderKind::Unsubscribe => Self::Unsubscribe,
        }
    }
}

impl From<StoredKind> for OrderKind {
    fn from(kind: StoredKind) -> Self {
        match kind {
            StoredKind::NewPurchase => Self::NewPurchase,
            StoredKind::Renew => Self::Renew,
            StoredKind::Upgrade => Self::Upgrade,
            StoredKind::Downgrade => Self::Downgrade,
            StoredKind::RenewChange => Self::RenewChange,
            StoredKind::TemporaryUpgrade => Self::TemporaryUpgrade,
            StoredKind::Unsubscribe => Self::Unsubscribe,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub kind: OrderKind,
    pub project_id: String,
    /// new_purchase: CU to buy; upgrade/downgrade/renew_change: the new total. Whole
    /// CU, 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub cu: Option<i64>,
    /// new_purchase/renew/renew_change: whole months, 1 to 36.
    #[schema(minimum = 1, maximum = 36)]
    pub months: Option<i64>,
    /// temporary_upgrade: when the extra CU start (default: now) and end; at least an
    /// hour, inside the subscription's term. `cu` is then the extra CU.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderQuote {
    pub kind: OrderKind,
    pub project_id: String,
    /// The subscription's CU after the order.
    pub cu: i64,
    /// Months the order buys (0 for upgrades and downgrades).
    pub months: i64,
    /// The term after the order: `term_start` is its anchor (the purchase, or a renewal
    /// after it had ended), and `term_end` all the months bought after it.
    pub term_start: DateTime<Utc>,
    pub term_end: DateTime<Utc>,
    /// Exact price in major units; negative for a credit (downgrade).
    pub amount: String,
    pub currency: String,
    /// temporary_upgrade: the window of the extra CU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_end: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct Order {
    pub id: String,
    #[serde(flatten)]
    pub quote: OrderQuote,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What an order does once placed: the quote as shown, and as the billing domain
/// computed it.
struct Plan {
    quote: OrderQuote,
    priced: order::Quote,
}

impl Plan {
    fn amount_minor(&self) -> i64 {
        self.priced.amount.minor()
    }
}

impl From<OrderKind> for order::OrderKind {
    fn from(kind: OrderKind) -> Self {
        match kind {
            OrderKind::NewPurchase => Self::NewPurchase,
            OrderKind::Renew => Self::Renew,
            OrderKind::Upgrade => Self::Upgrade,
            OrderKind::Downgrade => Self::Downgrade,
            OrderKind::RenewChange => Self::RenewChange,
            OrderKind::TemporaryUpgrade => Self::TemporaryUpgrade,
            OrderKind::Unsubscribe => Self::Unsubscribe,
        }
    }
}

/// A refusal of the billing domain in the edge's terms.
fn refused(refusal: order::Refusal) -> Error {
    match refusal.kind() {
        order::RefusalKind::InvalidField(field) => Error::invalid(field, refusal.to_string()),
        order::RefusalKind::Conflict(code) => Error::conflict(code, refusal.to_string()),
        order::RefusalKind::Internal => Error::internal(refusal),
    }
}

/// The project's subscription, capacity and unused temporary upgrades at `now`.
async fn load_project(
    orders: &mut OrderDesk<'_>,
    state: &AppState,
    body: &OrderRequest,
    model: &str,
    zone: chrono_tz::Tz,
    now_ms: i64,
) -> Result<order::Project, Error> {
    let subscription = orders.subscription(&body.project_id).await?;
    let running = orders.in_use(&body.project_id).await?;
    // Extra CU open now: a downgrade is checked against the base with these on top.
    let open_temporary = orders
        .purchased(&body.project_id, now_ms)
        .await?
        .map_or(0, |p| p.temporary);
    // Temporary upgrades not used up yet, which an unsubscribe refunds with the term.
    let unused = if body.kind == OrderKind::Unsubscribe {
        orders.unused_windows(&body.project_id, now_ms).await?
    } else {
        Vec::new()
    };
    let currency = state.pricing.currency;
    Ok(order::Project {
        model: if model == "subscription" {
            order::BillingModel::Subscription
        } else {
            order::BillingModel::PayAsYouGo
        },
        zone,
        subscription: subscription.map(|s| order::Subscription {
            cu_milli: s.cu_milli,
            term: order::Term {
                start: rfc3339(s.term_start),
                end: rfc3339(s.term_end),
                months: s.term_months,
            },
        }),
        running_cu_milli: running,
        open_temporary_cu_milli: open_temporary,
        unused_windows: unused
            .into_iter()
            .map(|w| order::PaidWindow {
                window: Window {
                    start: rfc3339(w.starts_at),
                    end: rfc3339(w.ends_at),
                },
                paid: Money::from_minor(w.amount_minor, currency),
            })
            .collect(),
        service_ends_at: None,
    })
}

/// The actions of the product form's lifecycle table an order is: each must be allowed.
/// A renewal with a CU change is a renewal and a configuration change, scaling out or
/// in as its CU goes up or down.
///
/// An unsubscribe at or after the form's end of service is no action of the table:
/// the platform ended the service, and the term's unused part must be refundable.
fn lifecycle_actions(
    body: &OrderRequest,
    project: &order::Project,
    now: DateTime<Utc>,
) -> Vec<lifecycle::Action> {
    use lifecycle::Action;
    match body.kind {
        OrderKind::NewPurchase => vec![Action::NewPurchase],
        OrderKind::Renew => vec![Action::Renewal],
        OrderKind::Upgrade | OrderKind::TemporaryUpgrade => vec![Action::ScaleOut],
        OrderKind::Downgrade => vec![Action::ScaleIn],
        OrderKind::RenewChange => {
            let current = project.subscription.map_or(0, |s| s.cu_milli);
            let scale = match body.cu {
                Some(cu) if cu.saturating_mul(1000) > current => Action::ScaleOut,
                _ => Action::ScaleIn,
            };
            vec![Action::Renewal, Action::ConfigurationChange, scale]
        }
        OrderKind::Unsubscribe if project.service_ends_at.is_some_and(|eos| now >= eos) => {
            Vec::new()
        }
        OrderKind::Unsubscribe => vec![Action::Unsubscribe],
    }
}

/// Decides whether the order may be placed and what it costs ([`order::quote`]), after
/// the product form's lifecycle allows it. Locks the project row.
async fn plan(
    orders: &mut OrderDesk<'_>,
    state: &AppState,
    body: &OrderRequest,
) -> Result<Plan, Error> {
    let project = orders.lock_project(&body.project_id).await?;
    let (model, zone) = (project.billing_model, project.billing_time_zone);
    let zone = parse_zone(&zone)?;
    let now = Utc::now();
    let form = orders.product_form(&body.project_id).await?;
    let mut project =
        load_project(orders, state, body, &model, zone, now.timestamp_millis()).await?;
    // The product form's end of service cuts the term short there: what was paid for
    // after it is refunded in full on unsubscribing.
    project.service_ends_at = form.as_ref().map(|f| rfc3339(f.eos));
    // The product form's lifecycle stage may forbid this kind of order.
    for action in lifecycle_actions(body, &project, now) {
        domain::product_forms::ensure_stage_allows(form.clone(), action)?;
    }
    let prices = state.pricing.order_prices(now)?;
    let asked = order::Order {
        kind: body.kind.into(),
        cu: body.cu,
        months: body.months,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
    };
    let priced = order::quote(&asked, &project, &prices, now).map_err(refused)?;
    let window = match priced.effect {
        order::Effect::AddsTemporaryUpgrade(w) => Some(w),
        _ => None,
    };
    Ok(Plan {
        quote: OrderQuote {
            kind: body.kind,
            project_id: body.project_id.clone(),
            cu: priced.cu_milli / 1000,
            months: priced.months,
            term_start: priced.term.start,
            term_end: priced.term.end,
            amount: priced.amount.major(),
            currency: priced.amount.currency().code().to_owned(),
            window_start: window.map(|w| w.start),
            window_end: window.map(|w| w.end),
        },
        priced,
    })
}

/// What an order would cost, without placing it.
#[utoipa::path(post, path = "/account/orders/preview", tag = "billing", request_body = OrderRequest,
    responses((status = 200, body = OrderQuote), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_order(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<OrderRequest>,
) -> ApiResult<JsonResponse<OrderQuote>> {
    let mut preview = access.scope().preview_orders().await?;
    let plan = plan(&mut preview.orders(), &state, &body).await?;
    preview.rollback().await?;
    Ok(JsonResponse(plan.quote))
}

/// Places an order, paid from (or, for a downgrade, credited to) the balance.
#[utoipa::path(post, path = "/account/orders", tag = "billing", request_body = OrderRequest,
    responses((status = 201, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn place_order(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<OrderRequest>,
) -> ApiResult<(StatusCode, JsonResponse<Order>)> {
    let mut write = access.scope().write().await?;
    let balance = write.ledger().balance().await?;
    let plan = plan(&mut write.orders(), &state, &body).await?;
    if plan.amount_minor() > balance {
        let currency = state.pricing.currency;
        return Err(Error::conflict(
            "insufficient_balance",
            format!(
                "the order costs {} but the balance is {}; top up first",
                plan.quote.amount,
                Money::from_minor(balance, currency).major()
            ),
        )
        .into());
    }
    let id = new_id();
    let now = now_ms();
    let mut orders = write.orders();
    orders
        .insert(&NewOrder {
            id: &id,
            project_id: &body.project_id,
            kind: body.kind.into(),
            cu_milli: plan.priced.cu_milli,
            months: plan.priced.months,
            amount_minor: plan.amount_minor(),
            currency: &plan.quote.currency,
            created_by: access.user_id(),
            created_at: now,
            starts_at: plan.quote.window_start.map(|t| t.timestamp_millis()),
            ends_at: plan.quote.window_end.map(|t| t.timestamp_millis()),
        })
        .await?;
    apply(&mut orders, &body.project_id, &id, &plan.priced, now).await?;
    domain::balance::record(
        &state,
        &mut write.ledger(),
        "order",
        -plan.amount_minor(),
        &id,
        access.user_id(),
    )
    .await?;
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Order {
            id,
            quote: plan.quote,
            created_by: access.user_id().to_owned(),
            created_at: rfc3339(now),
        }),
    ))
}

/// Stores what a placed order changes: the subscription, or a temporary upgrade's window.
async fn apply(
    orders: &mut OrderDesk<'_>,
    project_id: &str,
    order_id: &str,
    priced: &order::Quote,
    now: i64,
) -> Result<(), Error> {
    let term = Term {
        start: priced.term.start.timestamp_millis(),
        end: priced.term.end.timestamp_millis(),
        months: priced.term.months,
    };
    match priced.effect {
        order::Effect::AddsTemporaryUpgrade(window) => {
            orders
                .add_temporary_upgrade(
                    project_id,
                    order_id,
                    priced.cu_milli,
                    window.start.timestamp_millis(),
                    window.end.timestamp_millis(),
                    priced.amount.minor(),
                    now,
                )
                .await
        }
        order::Effect::Subscribes => {
            orders
                .subscribe(project_id, priced.cu_milli, term, now)
                .await
        }
        order::Effect::Unsubscribes => orders.unsubscribe(project_id, now).await,
        order::Effect::ChangesSubscription => {
            orders
                .change_subscription(project_id, priced.cu_milli, term, now)
                .await
        }
    }
}

/// An order placed before, as recorded.
#[derive(Serialize, ToSchema)]
pub struct PastOrder {
    pub id: String,
    pub kind: OrderKind,
    pub project_id: String,
    /// The CU the order bought or left the subscription with.
    pub cu: f64,
    pub months: i64,
    /// Exact, in major units; negative for a credit.
    pub amount: String,
    pub currency: String,
    /// temporary_upgrade: the window of the extra CU.
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The account's orders, newest first.
#[utoipa::path(get, path = "/account/orders", tag = "billing", params(PageQuery),
    responses((status = 200, body = Paginated<PastOrder>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_orders(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<PastOrder>>> {
    let page = q.page()?;
    let rows = access.scope().orders().list(&page).await?;
    let currency = state.pricing.currency;
    let items = rows
        .into_iter()
        .map(|o| PastOrder {
            id: o.id,
            kind: o.kind.into(),
            project_id: o.project_id,
            cu: o.cu_milli as f64 / 1000.0,
            months: o.months,
            amount: Money::from_minor(o.amount_minor, currency).major(),
            currency: o.currency,
            window_start: o.starts_at.map(rfc3339),
            window_end: o.ends_at.map(rfc3339),
            created_by: o.created_by,
            created_at: rfc3339(o.created_at),
        })
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |o| &o.id)))
}

#[derive(Serialize, ToSchema)]
pub struct Subscription {
    pub project_id: String,
    /// The CU bought for the term.
    pub cu: f64,
    pub term_start: DateTime<Utc>,
    pub term_end: DateTime<Utc>,
    /// Whether the term is renewed from the balance before it ends (see
    /// `PUT /account/subscriptions/{project_id}/auto-renew`), and for how many months.
    pub auto_renew: bool,
    pub renewal_months: i64,
    /// Extra CU of temporary upgrades open now.
    pub temporary_cu: f64,
    /// CU held by the project's running deployments now.
    pub cu_in_use: f64,
    /// Temporary upgrades open now or to come.
    pub temporary_upgrades: Vec<TemporaryUpgrade>,
}

#[derive(Serialize, ToSchema)]
pub struct TemporaryUpgrade {
    pub order_id: String,
    pub cu: f64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The account's subscriptions with the capacity in use.
#[utoipa::path(get, path = "/account/subscriptions", tag = "billing",
    responses((status = 200, body = Vec<Subscription>), (status = 403, body = ErrorBody)))]
pub async fn list_subscriptions(
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<Vec<Subscription>>> {
    let rows = access.scope().orders().subscriptions(now_ms()).await?;
    let items = rows
        .into_iter()
        .map(|s| Subscription {
            project_id: s.project_id,
            cu: s.purchased.base as f64 / 1000.0,
            term_start: rfc3339(s.term_start),
            term_end: rfc3339(s.term_end),
            auto_renew: s.auto_renew,
            renewal_months: s.renewal_months,
            temporary_cu: s.purchased.temporary as f64 / 1000.0,
            cu_in_use: s.in_use as f64 / 1000.0,
            temporary_upgrades: s
                .windows
                .into_iter()
                .map(|w| TemporaryUpgrade {
                    order_id: w.order_id,
                    cu: w.cu_milli as f64 / 1000.0,
                    starts_at: rfc3339(w.starts_at),
                    ends_at: rfc3339(w.ends_at),
                })
                .collect(),
        })
        .collect();
    Ok(JsonResponse(items))
}
