-- Events open to the public can ask a guest to confirm their address by an e-mailed link
-- before a place is held, so that invented addresses cannot fill an event. Events made
-- before this keep registering guests at once.
ALTER TABLE events ADD COLUMN guests_confirm BIGINT NOT NULL DEFAULT 0;

-- A guest's registration waiting for its address to be confirmed: sealed under the data
-- key (it holds a name, an address and answers), found by the link's digest, gone when
-- confirmed or a day after.
CREATE TABLE guest_confirmations (
    id BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    secret_digest TEXT NOT NULL UNIQUE,
    -- A keyed digest of the address: asking again finds the same pending registration.
    person_key TEXT NOT NULL,
    sealed_registration TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- One pending registration per address and event, even when two arrive at once.
CREATE UNIQUE INDEX guest_confirmations_person ON guest_confirmations (event_id, person_key);
-- The hourly limit of messages to one address counts its pending registrations.
CREATE INDEX guest_confirmations_recent ON guest_confirmations (person_key, created_at);
