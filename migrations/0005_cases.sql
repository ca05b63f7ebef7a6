-- The case lifecycle: offers to helpers, the helper who took a request, contacts logged
-- (when, how, how long, which resources: never what was said), and the tamper-evident
-- audit log of every view of identifying data.

ALTER TABLE support_requests ADD COLUMN helper_id BIGINT REFERENCES accounts (id);

CREATE TABLE support_offers (
    id BIGINT PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    helper_id BIGINT NOT NULL REFERENCES accounts (id),
    -- offered, accepted, declined, expired or cancelled
    status TEXT NOT NULL,
    offered_at BIGINT NOT NULL,
    respond_by BIGINT NOT NULL,
    responded_at BIGINT,
    offered_by BIGINT REFERENCES accounts (id)
);
CREATE INDEX support_offers_helper ON support_offers (helper_id, status);
CREATE INDEX support_offers_request ON support_offers (request_id);

CREATE TABLE support_contacts (
    id BIGINT PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    contacted_at BIGINT NOT NULL,
    mode TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    -- Resource keys separated by commas.
    resources TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX support_contacts_request ON support_contacts (request_id);

-- Each row's hash covers the previous row's hash, so an edited or deleted row breaks the
-- chain from that point on (`wecare audit verify`).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
