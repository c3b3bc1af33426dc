-- 001: the desired state, its generations and the apply runs.
-- Lists of strings (addresses, DNS) are stored one per line in a TEXT column;
-- enums as their names. Each table mirrors one table of state/schema.c
-- (tests/unit/test_store.c checks that every field has its column).

CREATE TABLE settings (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	host TEXT,
	service_mode TEXT NOT NULL,
	egress_interface TEXT,
	resync INTEGER NOT NULL,
	history_keep INTEGER NOT NULL
);

CREATE TABLE wireguard (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	enabled INTEGER NOT NULL
);

CREATE TABLE wg_interfaces (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES wireguard(id) ON DELETE CASCADE,
	name TEXT NOT NULL UNIQUE,
	listen_port INTEGER NOT NULL,
	address TEXT,
	dns TEXT,
	mtu INTEGER NOT NULL,
	disabled INTEGER NOT NULL,
	public_key TEXT,
	private_key TEXT
);

CREATE TABLE wg_peers (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES wg_interfaces(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	address TEXT,
	allowed_ips TEXT,
	keepalive INTEGER NOT NULL,
	disabled INTEGER NOT NULL,
	expires TEXT,
	note TEXT,
	public_key TEXT,
	private_key TEXT,
	preshared_key TEXT,
	UNIQUE (parent_id, name)
);

CREATE TABLE openvpn (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	enabled INTEGER NOT NULL,
	port INTEGER NOT NULL,
	proto TEXT NOT NULL,
	network TEXT,
	dns TEXT,
	routes TEXT
);

CREATE TABLE ovpn_clients (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES openvpn(id) ON DELETE CASCADE,
	name TEXT NOT NULL UNIQUE,
	static_ip TEXT,
	disabled INTEGER NOT NULL,
	expires TEXT,
	note TEXT
);

CREATE TABLE singbox (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	enabled INTEGER NOT NULL
);

CREATE TABLE sb_inbounds (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES singbox(id) ON DELETE CASCADE,
	name TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	port INTEGER NOT NULL,
	server_name TEXT
);

CREATE TABLE sb_users (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER NOT NULL REFERENCES sb_inbounds(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	disabled INTEGER NOT NULL,
	expires TEXT,
	note TEXT,
	uuid TEXT,
	password TEXT,
	quota_bytes INTEGER NOT NULL,
	UNIQUE (parent_id, name)
);

-- Every change of desired state is a new generation; its full YAML (with
-- secrets, so a restore brings back the same keys) is kept.
CREATE TABLE generations (
	gen INTEGER PRIMARY KEY,
	created_at INTEGER NOT NULL,
	trigger TEXT NOT NULL,
	summary TEXT NOT NULL,
	yaml TEXT NOT NULL
);

CREATE TABLE apply_runs (
	id INTEGER PRIMARY KEY,
	started_at INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	trigger TEXT NOT NULL,
	generation INTEGER NOT NULL,
	ok INTEGER NOT NULL,
	actions TEXT NOT NULL,
	error TEXT
);

CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
