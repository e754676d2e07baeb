//! Where a job may run. The platform's shared cluster runs no custom code (for the
//! account's, the business's and the data's security, as the product's shared mode
//! offered no user-defined functions): a JAR job runs only on a cluster the account
//! registered for itself. SQL jobs, which use the connector catalogue the platform
//! puts on every cluster, run on either.

use crate::jobs::JobContent;
use store::{Error, ProjectScope};

/// The refusal's words: the rule, and where to go instead.
pub const JAR_ON_PLATFORM_CLUSTER: &str = "JAR jobs run only on a cluster your account registered: the shared platform cluster runs no custom code (register a cluster under /clusters)";

/// Refuses (422 on `cluster_id`) to put `content` on `cluster_id` when it is custom
/// code and the cluster is the platform's. Only reads: the callers check before they
/// write, when a deployment is created, started or upgraded to another version.
pub async fn ensure_cluster_takes(
    scope: &ProjectScope,
    cluster_id: &str,
    content: &JobContent,
) -> Result<(), Error> {
    if !matches!(content, JobContent::Jar { .. }) {
        return Ok(());
    }
    let cluster = scope
        .account()
        .clusters()
        .visible(cluster_id)
        .await
        .map_err(|e| e.with_field("cluster_id"))?;
    if cluster.account_id.is_none() {
        return Err(Error::invalid("cluster_id", JAR_ON_PLATFORM_CLUSTER));
    }
    Ok(())
}
