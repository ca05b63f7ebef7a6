-- Whether the programme worked coordinator-blind when a request was filed: the promise made
-- to that person holds for their request even if the setting is switched off later.
ALTER TABLE support_requests ADD COLUMN filed_blind BIGINT NOT NULL DEFAULT 0;
-- Requests already filed take the setting in force now: if the programme works blind, the
-- people who asked were promised it.
UPDATE support_requests SET filed_blind = COALESCE(
    (SELECT CASE WHEN setting_value = '1' THEN 1 ELSE 0 END
     FROM settings WHERE setting_key = 'support_coordinator_blind'), 0);
