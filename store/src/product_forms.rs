//! A project's product form (subscription or pay-as-you-go) and its changes.
