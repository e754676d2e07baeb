//! Invitations to join an account.
