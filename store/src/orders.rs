//! Orders: subscriptions bought, renewed and changed.
