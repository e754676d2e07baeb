//! People, their sign-in sessions and the tokens a request presents (read before any tenant is known).
