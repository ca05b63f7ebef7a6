-- Whether the programme worked coordinator-blind when a request was filed: the promise made
-- to that person holds for their request even if the setting is switched off later.
ALTER TABLE support_requests ADD COLUMN filed_blind BIGINT NOT NULL DEFAULT 0;
