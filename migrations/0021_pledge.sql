-- The code-of-conduct pledge. Versions are only ever added (number 1, 2, 3…), each with
-- its text and a SHA-256 digest of it, so a signature always says what was agreed to.
CREATE TABLE pledge_versions (
    number BIGINT PRIMARY KEY,
    text_md TEXT NOT NULL,
    digest TEXT NOT NULL,
    change_kind TEXT NOT NULL,
    note TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL
);

-- Every signing and withdrawal is a row of its own, numbered per person (seq), never
-- changed: a person's pledge now is their last row. The key on (account_id, seq) also
-- keeps two clicks at once from both being taken.
CREATE TABLE pledge_records (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    version BIGINT NOT NULL REFERENCES pledge_versions (number),
    act TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX pledge_records_at ON pledge_records (at);

-- What a signer lets the public list show: nothing unless they say so.
CREATE TABLE pledge_listing (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    show_name BIGINT NOT NULL DEFAULT 0,
    show_department BIGINT NOT NULL DEFAULT 0,
    department TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- Reminders to sign again after a substantive version: how many went, and when the last.
CREATE TABLE pledge_reminders (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    last_sent_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, version)
);
