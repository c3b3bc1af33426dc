-- 003: settings.auto_apply. 1 (the default): `atlas serve` applies every
-- change of desired state at once; 0: it only observes (plan, drift) until
-- POST /api/v1/apply or SIGHUP.
ALTER TABLE settings ADD COLUMN auto_apply INTEGER NOT NULL DEFAULT 1;
