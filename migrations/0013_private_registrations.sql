-- A member's registration for a private event (a debrief, a support circle) no longer keeps
-- the account id in clear: it keeps a keyed digest of it, computable only with the data
-- key, as support requests keep their owner. Registrations for other events leave it NULL.
ALTER TABLE registrations ADD COLUMN account_index TEXT;
CREATE INDEX registrations_account_index ON registrations (account_index);
