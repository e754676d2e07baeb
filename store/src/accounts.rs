//! Accounts: creation, settings, the person's accounts.
