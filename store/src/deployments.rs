//! Deployments: their desired state, what the engine was last seen doing, and the actions pending.
