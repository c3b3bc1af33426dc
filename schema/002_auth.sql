-- 002: the panel's administrators. The password is stored as a scrypt hash
-- ("scrypt$N$r$p$SALT$HASH", base64). token_epoch grows at every password
-- change: tokens carry it, so older tokens stop working.
CREATE TABLE admins (
	username TEXT PRIMARY KEY,
	hash TEXT NOT NULL,
	token_epoch INTEGER NOT NULL DEFAULT 1,
	updated_at INTEGER NOT NULL
);
