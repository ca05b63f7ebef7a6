-- API tokens may stop working on a date their owner chose. Existing tokens never expire.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
