-- The helper corps: each helper's profile (what matching uses and what the public
-- "meet our helpers" page may show, if they opt in) and their training records.
-- Multi-valued attributes are stored as text separated by "|".

CREATE TABLE helper_profiles (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    department TEXT NOT NULL DEFAULT '',
    appointment TEXT NOT NULL DEFAULT '',
    career_rank TEXT NOT NULL DEFAULT '',
    genders TEXT NOT NULL DEFAULT '',
    race_ethnicities TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    topics TEXT NOT NULL DEFAULT '',
    capacity BIGINT NOT NULL DEFAULT 2,
    away_until BIGINT,
    bio TEXT NOT NULL DEFAULT '',
    bio_public BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE helper_training (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- initial or refresher
    kind TEXT NOT NULL,
    completed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    recorded_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX helper_training_account ON helper_training (account_id);
