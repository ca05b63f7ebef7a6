-- A helper's safety escalation: from then on coordinators may see who asked, even in
-- coordinator-blind programmes (each view is in the audit log).
ALTER TABLE support_requests ADD COLUMN escalated_at BIGINT;
