-- Personal calendar feed addresses were stored in clear: anyone with a copy of the
-- database could open a member's feed (private events included). From now on the address
-- is derived from the data key and a random nonce, and only its digest is stored (in
-- `token`). The old addresses stop working: members find the new one under "My events".
DELETE FROM calendar_feeds;
ALTER TABLE calendar_feeds ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
