//! CU held by projects and used by deployments.
