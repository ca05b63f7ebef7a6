-- The consent promises that staff call the guardian at once in an emergency: a students'
-- event now asks for the guardian's telephone number and another adult to call. The three
-- are kept together, sealed with the data key (never in clear), and go with the
-- registration when the children's details are erased.
ALTER TABLE registrations ADD COLUMN guardian_contact TEXT;
