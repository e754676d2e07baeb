//! Where a job may run. The platform's shared cluster runs no custom code (for the
//! account's, the business's and the data's security, as the product's shared mode
//! offered no user-defined functions): a JAR job, a Python job, and a SQL job that
//! brings the tenant's code (a UDF artifact, a registered function, a jar location, a
//! deployment dependency) run only on a cluster the account registered for itself.
//! SQL jobs that use only the connector catalogue the platform puts on every cluster
//! run on either.

use crate::jobs::JobContent;
use crate::pipeline;
use store::{Error, ProjectScope};

/// The refusal's words: the rule, and where to go instead.
pub const JAR_ON_PLATFORM_CLUSTER: &str = "JAR jobs run only on a cluster your account registered: the shared platform cluster runs no custom code (register a cluster under /clusters)";

/// The same rule for Python jobs: the script is the tenant's own code.
pub const PYTHON_ON_PLATFORM_CLUSTER: &str = "Python jobs run only on a cluster your account registered: the shared platform cluster runs no custom code (register a cluster under /clusters)";

/// The same rule for SQL jobs that bring artifacts of the tenant's.
pub const CUSTOM_CODE_ON_PLATFORM_CLUSTER: &str = "this job brings custom code (UDF or connector artifacts, registered functions or dependencies), which runs only on a cluster your account registered: the shared platform cluster runs no custom code (register a cluster under /clusters)";

/// Refuses (422 on `cluster_id`) to put `content` (with the deployment's
/// `dependencies`) on `cluster_id` when it is custom code and the cluster is the
/// platform's. Only reads: the callers check before they write, when a deployment is
/// created, started or upgraded to another version.
pub async fn ensure_cluster_takes(
    scope: &ProjectScope,
    cluster_id: &str,
    content: &JobContent,
    dependencies: &[String],
) -> Result<(), Error> {
    let refusal = match content {
        JobContent::Jar { .. } => JAR_ON_PLATFORM_CLUSTER,
        JobContent::Python { .. } => PYTHON_ON_PLATFORM_CLUSTER,
        JobContent::Sql { .. } if !dependencies.is_empty() => CUSTOM_CODE_ON_PLATFORM_CLUSTER,
        JobContent::Sql { sql } => {
            let Ok(analysis) = engine_client::script::analyze(sql) else {
                return Ok(()); // refused for what it is when it starts
            };
            let resources = scope.pipeline_resources().await?;
            if !pipeline::uses_custom_code(&analysis.statements, &resources) {
                return Ok(());
            }
            CUSTOM_CODE_ON_PLATFORM_CLUSTER
        }
    };
    let cluster = scope
        .account()
        .clusters()
        .visible(cluster_id)
        .await
        .map_err(|e| e.with_field("cluster_id"))?;
    if cluster.account_id.is_none() {
        return Err(Error::invalid("cluster_id", refusal));
    }
    Ok(())
}
