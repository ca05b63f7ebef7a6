-- Sessions renew while used, up to an absolute limit, and a person can see and end their
-- other sessions.
--   last_seen_at: when the session was last used (renewed at most every few minutes).
--   absolute_expires_at: the end no use can push back. A session from before this
--     migration keeps the end it had.
--   handle: names the session in the "where you are signed in" list and its sign-out
--     button; random for new sessions, never the secret or its digest. Old sessions get
--     the first characters of their digest, which cannot be turned back into the secret.
--   device: a short description of the browser ("Firefox on Windows"), from its
--     User-Agent header; the header itself is not kept.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN absolute_expires_at BIGINT;
ALTER TABLE sessions ADD COLUMN handle TEXT;
ALTER TABLE sessions ADD COLUMN device TEXT;
UPDATE sessions SET last_seen_at = created_at, absolute_expires_at = expires_at,
    handle = substr(id_digest, 1, 24), device = '';
CREATE UNIQUE INDEX sessions_handle ON sessions (handle);
