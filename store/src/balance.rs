//! An account's balance, its movements and arrears.
