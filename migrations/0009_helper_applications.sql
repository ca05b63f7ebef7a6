-- Members apply to become helpers; a coordinator approves (which gives the helper role)
-- or declines.
CREATE TABLE helper_applications (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    motivation TEXT NOT NULL,
    department TEXT NOT NULL,
    -- pending, approved or declined
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT REFERENCES accounts (id)
);
CREATE INDEX helper_applications_status ON helper_applications (status, created_at);
