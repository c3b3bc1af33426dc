-- 006: the administrator's second factor, scoped API tokens and the actor
-- of every generation and apply run.
-- totp_secret is the base32 TOTP secret once enrolment is confirmed (NULL:
-- off); totp_pending the one shown at enrolment until its first code
-- confirms it; totp_last_step the newest time step a code was accepted for
-- (a code of that step or an older one is a replay).
ALTER TABLE admins ADD COLUMN totp_secret TEXT;
ALTER TABLE admins ADD COLUMN totp_pending TEXT;
ALTER TABLE admins ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
-- Ten one-time recovery codes per enrolment, as hex SHA-256; used_at > 0
-- once used.
CREATE TABLE totp_recovery (
	username TEXT NOT NULL,
	hash TEXT NOT NULL,
	used_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (username, hash)
) WITHOUT ROWID;
-- An API token is shown once; only its hex SHA-256 is kept. expires_at 0:
-- never.
CREATE TABLE api_tokens (
	name TEXT PRIMARY KEY,
	scope TEXT NOT NULL CHECK (scope IN ('read', 'operator', 'admin')),
	hash TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
);
-- Who made a generation or ran an apply: "admin", "token:NAME", "cli",
-- "watch:FILE", "adopt"; '' for rows written before this schema.
ALTER TABLE generations ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE apply_runs ADD COLUMN actor TEXT NOT NULL DEFAULT '';
-- settings.tls_cert / tls_key: the certificate pair of `atlas serve` in the
-- desired state (command-line options win).
ALTER TABLE settings ADD COLUMN tls_cert TEXT;
ALTER TABLE settings ADD COLUMN tls_key TEXT;
