-- When another account's verification last dropped one of this account's unverified
-- addresses: the account page says so for a while, reading this instead of the events.
ALTER TABLE users ADD COLUMN claim_dropped_at INTEGER;

-- CAPTCHA answers already accepted (the SHA-256 of the proof-of-work challenge or of the
-- provider's token), kept until the challenge would have expired anyway: each is good once,
-- on every instance.
CREATE TABLE captcha_answers (
    digest      TEXT    PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX captcha_answers_expires ON captcha_answers(expires_at);
