-- The resource directory: where people can find help beyond a peer conversation. Public.
-- Entries are archived, not deleted, so that the counts of referrals to them stay whole.
CREATE TABLE resources (
    id BIGINT PRIMARY KEY,
    resource_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    what TEXT NOT NULL,
    how_to_reach TEXT NOT NULL,
    hours TEXT NOT NULL,
    confidential BIGINT NOT NULL,
    sort_order BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
