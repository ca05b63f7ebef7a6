-- Peer support requests. Identities, preferences and free text are sealed by the
-- application (XChaCha20-Poly1305, key outside the database) before they reach these
-- columns; the rest is what de-identified statistics are made of. A member's own requests
-- are found by a keyed digest of their account id, so the table does not link a request to
-- an account for anyone without the key. Receipt codes are stored as SHA-256 digests.

CREATE TABLE support_requests (
    id BIGINT PRIMARY KEY,
    -- A short reference for staff ("R-7K3Q"), naming no one.
    reference TEXT NOT NULL UNIQUE,
    receipt_digest TEXT NOT NULL UNIQUE,
    owner_index TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    urgency TEXT NOT NULL,
    -- Topic keys separated by commas.
    topics TEXT NOT NULL,
    contact_mode TEXT NOT NULL,
    -- Sealed JSON; NULL once erased.
    sealed_identity TEXT,
    sealed_preferences TEXT,
    -- Sealed free text; erased when the request is closed or withdrawn.
    sealed_message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_contact_at BIGINT,
    closed_at BIGINT,
    outcome TEXT
);
CREATE INDEX support_requests_status ON support_requests (status, created_at);
CREATE INDEX support_requests_owner ON support_requests (owner_index);
