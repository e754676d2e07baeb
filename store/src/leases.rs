//! The reconciler's lease: which replica acts on the engine.
