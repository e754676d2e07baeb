//! A account's members and their roles, account-wide and per project.
