-- Self sign-up: an address someone asked to make an account for, waiting for them to
-- follow the e-mailed link. The account does not exist until they do; a row goes when its
-- link is used, replaced by a newer one for the same address, or found expired.
CREATE TABLE sign_ups (
    token_digest TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_ups_email ON sign_ups (email);
