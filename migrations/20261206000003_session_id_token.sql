-- the ID token the identity provider issued at a console sign-in, sealed (secrets key,
-- bound to the session's id): sent back as id_token_hint when the person signs out,
-- so the provider ends its own session too (RP-initiated logout). Null for sessions
-- that did not come from a provider, and once the session is signed out.
alter table sessions add column id_token text;
