-- Single sign-on through the institution's identity provider. A person is known by the
-- provider's stable identifier (the issuer and its subject), never by e-mail address,
-- which changes.
CREATE TABLE sign_in_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sign_in_identities_account ON sign_in_identities (account_id);

-- A sign-in sent to the provider and not back yet: only a digest of its state (the
-- browser holds the state itself), the nonce and PKCE verifier its answer is checked
-- with, and where to go afterwards. Taken (deleted) by the answer, so it works once.
CREATE TABLE sign_in_attempts (
    state_digest TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_expiry ON sign_in_attempts (expires_at);
-- One identity per provider per account: two people at the provider never share one.
CREATE UNIQUE INDEX sign_in_identities_one_per_account ON sign_in_identities (account_id, issuer);

-- 'claims' for a role the provider's claims granted, which goes when the claim does;
-- NULL for a role given in wecare.
ALTER TABLE account_roles ADD COLUMN granted_by TEXT;

-- 'oidc' for a session begun at the provider, so that signing out can end the
-- provider's session too; NULL for a password.
ALTER TABLE sessions ADD COLUMN signed_in_with TEXT;
