-- Events: occurrences of a series (or stand-alone), their questions and readings,
-- registrations with a waiting list, check-in, personal calendar feeds, and for events
-- with school students the children, the guardian's consent and the volunteer roster.

CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    series_id BIGINT REFERENCES series (id) ON DELETE SET NULL,
    -- Occurrences created together by one recurrence share this id (the first one's).
    recurrence_id BIGINT,
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    place TEXT NOT NULL,
    online_url TEXT NOT NULL,
    -- Comma-separated audience keys (faculty, residents, students, public).
    audience TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    opens_at BIGINT,
    closes_at BIGINT,
    guests_allowed BIGINT NOT NULL,
    private_event BIGINT NOT NULL,
    for_minors BIGINT NOT NULL,
    -- first_come or lottery; a lottery draws at lottery_at with a seed kept here.
    allocation TEXT NOT NULL,
    lottery_at BIGINT,
    lottery_seed TEXT,
    drawn_at BIGINT,
    -- 0: a freed place goes to the first waiting at once; otherwise it is offered for
    -- this many hours before it passes on.
    offer_hours BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- iCalendar SEQUENCE: raised on every change so calendars replace their copy.
    sequence BIGINT NOT NULL,
    -- Arrival counter, taken while the event row is locked: the waiting list's order.
    next_arrival BIGINT NOT NULL,
    -- Counts kept when registrations are erased (private and minors' events).
    erased_at BIGINT,
    kept_registered BIGINT NOT NULL DEFAULT 0,
    kept_waitlisted BIGINT NOT NULL DEFAULT 0,
    kept_attended BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX events_start ON events (starts_at);
CREATE INDEX events_series ON events (series_id, starts_at);

CREATE TABLE event_questions (
    id BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sort_order BIGINT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    required BIGINT NOT NULL,
    -- One choice per line, for choice questions.
    options TEXT NOT NULL
);
CREATE INDEX event_questions_event ON event_questions (event_id, sort_order);

CREATE TABLE event_readings (
    id BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sort_order BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    authors TEXT NOT NULL,
    isbn TEXT NOT NULL,
    journal TEXT NOT NULL,
    pub_year BIGINT,
    doi TEXT NOT NULL
);
CREATE INDEX event_readings_event ON event_readings (event_id, sort_order);

CREATE TABLE registrations (
    id BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- The e-mail address in lower case: one registration per person per event. For a
    -- private event, a keyed digest of it, and name and e-mail are sealed (sealed = 1).
    person_key TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    sealed BIGINT NOT NULL DEFAULT 0,
    -- Places taken: 1, or the number of children a guardian registers.
    places BIGINT NOT NULL,
    -- JSON list of {question, answer}.
    answers TEXT NOT NULL,
    -- entered (in a lottery not yet drawn), confirmed, waitlisted, offered, cancelled.
    status TEXT NOT NULL,
    arrival BIGINT NOT NULL,
    offer_expires_at BIGINT,
    -- Digest of the secret in the confirmation's link (cancel without signing in).
    manage_digest TEXT NOT NULL UNIQUE,
    checked_in_at BIGINT,
    reminded_at BIGINT,
    -- Guardian's consent, for minors' events.
    consent_version TEXT,
    guardian_relationship TEXT,
    consented_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_id, person_key)
);
CREATE INDEX registrations_queue ON registrations (event_id, status, arrival);
CREATE INDEX registrations_account ON registrations (account_id);
-- For the limit on how often one address is registered as a guest.
CREATE INDEX registrations_person ON registrations (person_key, created_at);

CREATE TABLE registration_children (
    id BIGINT PRIMARY KEY,
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    grade TEXT NOT NULL,
    school TEXT NOT NULL
);
CREATE INDEX registration_children_registration ON registration_children (registration_id);

-- A member's personal calendar feed: the token is the URL's secret; a new one revokes it.
CREATE TABLE calendar_feeds (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Adults who may work with school students: the dates of their checks (YYYY-MM-DD).
CREATE TABLE volunteer_clearances (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    background_check_on TEXT NOT NULL,
    youth_training_on TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE event_volunteers (
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, account_id)
);
