-- 005: traffic quotas in the desired state (quota with its unit as written,
-- the period and its reset day) on every WireGuard peer, OpenVPN client and
-- sing-box user; and the accounting, which is observed state, not desired
-- state: one row per user and engine with the engine's last counters (what
-- the next reading is compared with), the all-time totals and the total of
-- the current quota period, and one row per user and UTC day.
ALTER TABLE wg_peers ADD COLUMN quota TEXT;
ALTER TABLE wg_peers ADD COLUMN quota_period TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE wg_peers ADD COLUMN quota_reset_day INTEGER NOT NULL DEFAULT 1;
ALTER TABLE ovpn_clients ADD COLUMN quota TEXT;
ALTER TABLE ovpn_clients ADD COLUMN quota_period TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE ovpn_clients ADD COLUMN quota_reset_day INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sb_users ADD COLUMN quota TEXT;
ALTER TABLE sb_users ADD COLUMN quota_period TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE sb_users ADD COLUMN quota_reset_day INTEGER NOT NULL DEFAULT 1;

CREATE TABLE usage_counters (
	engine TEXT NOT NULL,
	user TEXT NOT NULL,
	last_rx INTEGER NOT NULL,
	last_tx INTEGER NOT NULL,
	last_session INTEGER NOT NULL,
	rx_total INTEGER NOT NULL,
	tx_total INTEGER NOT NULL,
	period_start INTEGER NOT NULL,
	period_rx INTEGER NOT NULL,
	period_tx INTEGER NOT NULL,
	PRIMARY KEY (engine, user)
) WITHOUT ROWID;

CREATE TABLE usage_daily (
	engine TEXT NOT NULL,
	user TEXT NOT NULL,
	day INTEGER NOT NULL,	-- days since 1970-01-01, UTC
	rx INTEGER NOT NULL,
	tx INTEGER NOT NULL,
	PRIMARY KEY (engine, user, day)
) WITHOUT ROWID;
CREATE INDEX usage_daily_day ON usage_daily (day);
