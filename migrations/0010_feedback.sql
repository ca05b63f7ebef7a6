-- Anonymous feedback after a case closes: kept apart from the request (only the month),
-- so that an answer cannot be traced back to a person or a helper.
CREATE TABLE support_feedback (
    id BIGINT PRIMARY KEY,
    month TEXT NOT NULL,
    helpful BIGINT NOT NULL,
    recommend BIGINT NOT NULL
);
ALTER TABLE support_requests ADD COLUMN feedback_given BIGINT NOT NULL DEFAULT 0;
