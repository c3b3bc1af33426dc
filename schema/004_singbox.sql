-- 004: the sing-box engine: inbound options (listen, security, TLS, REALITY,
-- transport, Shadowsocks method), the panel's URL for subscriptions, the keys Atlas generates and keeps for
-- them, the local service ports and secret, and one subscription token per
-- user name. Enums are stored as their names, like the other tables.
ALTER TABLE settings ADD COLUMN singbox_binary TEXT;
ALTER TABLE settings ADD COLUMN panel_url TEXT;

ALTER TABLE singbox ADD COLUMN api_port INTEGER NOT NULL DEFAULT 9091;
ALTER TABLE singbox ADD COLUMN ssm_port INTEGER NOT NULL DEFAULT 9092;
ALTER TABLE singbox ADD COLUMN v2ray_api_port INTEGER NOT NULL DEFAULT 9093;
ALTER TABLE singbox ADD COLUMN api_secret TEXT;

ALTER TABLE sb_inbounds ADD COLUMN listen TEXT;
ALTER TABLE sb_inbounds ADD COLUMN security TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE sb_inbounds ADD COLUMN reality_handshake TEXT;
ALTER TABLE sb_inbounds ADD COLUMN tls_certificate TEXT;
ALTER TABLE sb_inbounds ADD COLUMN tls_key TEXT;
ALTER TABLE sb_inbounds ADD COLUMN transport TEXT NOT NULL DEFAULT 'tcp';
ALTER TABLE sb_inbounds ADD COLUMN path TEXT;
ALTER TABLE sb_inbounds ADD COLUMN method TEXT NOT NULL DEFAULT '2022-blake3-aes-128-gcm';
ALTER TABLE sb_inbounds ADD COLUMN reality_private_key TEXT;
ALTER TABLE sb_inbounds ADD COLUMN reality_public_key TEXT;
ALTER TABLE sb_inbounds ADD COLUMN reality_short_id TEXT;
ALTER TABLE sb_inbounds ADD COLUMN server_key TEXT;
ALTER TABLE sb_inbounds ADD COLUMN self_signed_certificate TEXT;
ALTER TABLE sb_inbounds ADD COLUMN self_signed_key TEXT;
ALTER TABLE sb_inbounds ADD COLUMN certificate_sha256 TEXT;

CREATE TABLE sb_subscriptions (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES singbox(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	token TEXT,
	UNIQUE (parent_id, name)
);
