-- Delivery: the outbox every message is written to (in the transaction of the change that
-- causes it), the editable message wording, people's choices about optional messages, and
-- the timed jobs all instances share. Same conventions as 0001: ids made by the
-- application, times in Unix seconds, 0/1 flags, SQL that both SQLite and PostgreSQL run.

CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- One message per cause: a second enqueue with the same key is ignored.
    dedupe_key TEXT NOT NULL UNIQUE,
    to_address TEXT NOT NULL,
    from_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- Erased once the message has been handed to the mail server.
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    attachment_name TEXT,
    attachment_type TEXT,
    attachment_body TEXT,
    list_unsubscribe TEXT,
    confidential BIGINT NOT NULL DEFAULT 0,
    -- queued, sending, sent, failed or cancelled
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    server_reply TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE mail_templates (
    kind TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES accounts (id)
);

-- Optional messages someone has switched off, by address (guests have no account).
CREATE TABLE mail_optouts (
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (address, kind)
);

-- One-click unsubscribe links; only digests of the secrets are kept.
CREATE TABLE unsubscribe_links (
    token_digest TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX unsubscribe_links_created ON unsubscribe_links (created_at);

-- Timed work: each row is claimed by one instance at a time.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_result TEXT
);
