-- DPoP (RFC 9449): the JWK SHA-256 thumbprint (RFC 7638) a token is bound to. Access tokens
-- issued with a DPoP proof are bound; refresh tokens only when issued to a public client
-- (§5: a confidential client's are already bound to its credentials).
ALTER TABLE access_tokens ADD COLUMN jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;
-- Per client: every token request must carry a DPoP proof.
ALTER TABLE clients ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT FALSE;

-- One table for every value that may be used once across instances until it would have
-- expired anyway: CAPTCHA answers and DPoP proof ids (RFC 9449 §11.1), each as a SHA-256
-- digest of a value named for its purpose.
ALTER TABLE captcha_answers RENAME TO spent_once;
ALTER INDEX captcha_answers_expires RENAME TO spent_once_expires;
