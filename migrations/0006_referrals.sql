-- Referrals and outreach: why someone was referred (counted in reports; names no one).
ALTER TABLE support_requests ADD COLUMN reason TEXT;
