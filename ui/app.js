/*
 * app.js - the Atlas panel: one Alpine.js component (`atlas`) holding the
 * views Login, Dashboard, WireGuard, OpenVPN, Plan, History and Settings.
 *
 * Rules kept here: every request goes through api(), which adds the bearer
 * token kept in sessionStorage and turns a 401 into the login view; every
 * user-supplied string reaches the page through x-text only, never as
 * markup; every destructive action goes through ask(), a <dialog>
 * confirmation (never window.confirm). Nothing is loaded from elsewhere.
 */
'use strict';

const TOKEN_KEY = 'atlas.token';
const DEVICE_KEY = 'atlas.device';
const API = '/api/v1';
const VIEWS = ['dashboard', 'wireguard', 'openvpn', 'singbox', 'plan', 'history', 'settings'];
const HISTORY_POINTS = 40;

/* An HTTP error carrying the server's message, status and field. */
class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.field = body && body.field ? body.field : null;
    this.body = body || null;
  }
}

function fmtBytes(n) {
  if (n === null || n === undefined || isNaN(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  n = Number(n);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + u[i];
}

function fmtAgo(unix, now) {
  if (!unix) return 'never';
  const s = Math.max(0, Math.round(now / 1000 - unix));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

function fmtUptime(s) {
  s = Number(s) || 0;
  if (s < 3600) return Math.floor(s / 60) + ' min';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor(s % 86400 / 3600) + ' h';
}

function fmtTime(unix) {
  if (!unix) return '–';
  const d = new Date(unix * 1000);
  return d.toLocaleString();
}

/* The marker of a plan action by its kind: + adds, ~ changes, - removes. */
function actionMark(kind) {
  switch (kind) {
  case 'create': case 'issue': case 'start': return '+';
  case 'delete': case 'revoke': case 'stop': case 'kill': return '-';
  default: return '~';
  }
}

/* An action's text without the marker the server may already put first. */
function actionText(t) {
  return String(t || '').replace(/^[+~-] /, '');
}

function dropsCount(d) {
  if (Array.isArray(d)) return d.length;
  return Number(d) || 0;
}

function splitList(s) {
  return String(s || '').split(/[\s,]+/).filter(Boolean);
}

/* Classifies the lines of a unified diff for colouring (text stays text). */
function diffLines(text) {
  return String(text || '').split('\n').map((t, i) => {
    let cls = '';
    if (t.startsWith('+++') || t.startsWith('---')) cls = 'text-slate-500';
    else if (t.startsWith('@@')) cls = 'text-sky-600 dark:text-sky-400';
    else if (t.startsWith('+')) cls = 'text-emerald-700 dark:text-emerald-400';
    else if (t.startsWith('-')) cls = 'text-red-700 dark:text-red-400';
    return { i, t: t === '' ? ' ' : t, cls };
  });
}

/* Today as YYYY-MM-DD in UTC: an expiry date is valid through that day, UTC. */
function todayUTC(nowMs) {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/*
 * A display name turned into a valid resource name as the user types:
 * lowercase, one dash for each run of spaces and other characters, at most
 * 63 ("Alice Phone" -> "alice-phone"). While typing a trailing dash stays
 * (the next word follows); done = true drops it, as the server's
 * suggestion does (state/validate.c name_suggest).
 */
function slugName(v, done) {
  let s = String(v || '').toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  if (done) s = s.replace(/[-_.]+$/, '');
  return s;
}

/* Engine names as the panel writes them (the API and the CLI use the keys). */
const ENGINE_NAMES = { wireguard: 'WireGuard', openvpn: 'OpenVPN', singbox: 'sing-box' };

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

document.addEventListener('alpine:init', () => {
  Alpine.data('atlas', () => ({
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    view: 'dashboard',
    navOpen: false,
    now: Date.now(),
    toasts: [],
    busy: false,

    login: { username: 'admin', password: '', error: '', busy: false,
             totp: '', needCode: false /* two-factor login (settings.js) */ },
    status: null,
    live: false,
    es: null,
    traffic: {},          /* key "wg/IF/PEER" or "ovpn/NAME" -> {name, engine, rx, tx, rate:[...]} */

    wg: { ifaces: [], iface: '', peers: [], error: '', form: {}, formError: '', editing: null,
          ifForm: {}, ifFormError: '', qrUrl: '', qrName: '', qrError: '' },
    eng: atlasEngineState(),   /* engines.js: engine setup and service control */
    sb: atlasSingboxState(),   /* singbox.js: the sing-box tab */
    tok: atlasSettingsState(), /* settings.js: API tokens, two-factor login */
    ovpn: { server: null, clients: [], error: '', form: {}, formError: '' },
    plan: { data: null, error: '', applying: false, result: null, runs: [] },
    hist: { data: null, error: '', sel: null, detail: null, mode: 'own' },
    restore: { gen: 0, preview: null, kept: [], withSettings: false, error: '' },
    settings: { pw: { current: '', next: '', again: '' }, pwMsg: '', pwError: '',
                yaml: '', fileName: '', preview: null, importError: '', importErrors: [],
                importMsg: '', modeError: '' },
    confirmBox: { title: '', text: '', action: 'Confirm', danger: true, resolve: null },

    init() {
      window.addEventListener('hashchange', () => this.route());
      setInterval(() => { this.now = Date.now(); }, 5000);
      if (this.token) this.start(); else this.view = 'login';
    },

    /* ---- HTTP ---------------------------------------------------------- */

    /* Calls the API; resolves with parsed JSON (or text/blob when asked),
     * rejects with an ApiError. A 401 on any call but login ends the session. */
    async api(method, path, body, opts = {}) {
      const headers = {};
      if (this.token) headers['Authorization'] = 'Bearer ' + this.token;
      let payload;
      if (body !== undefined) {
        if (typeof body === 'string') {
          headers['Content-Type'] = opts.type || 'text/plain';
          payload = body;
        } else {
          headers['Content-Type'] = 'application/json';
          payload = JSON.stringify(body);
        }
      }
      let r;
      try {
        r = await fetch(API + path, { method, headers, body: payload, cache: 'no-store' });
      } catch (e) {
        throw new ApiError(0, 'cannot reach the Atlas server', null);
      }
      if (r.status === 401 && !opts.noLogout) {
        this.logout('Your session has ended: please sign in again.');
        throw new ApiError(401, 'not signed in', null);
      }
      if (!r.ok) {
        let b = null;
        let msg = r.status + ' ' + r.statusText;
        try { b = await r.json(); if (b && b.error) msg = b.error; } catch (e) { /* not JSON */ }
        throw new ApiError(r.status, msg, b);
      }
      if (opts.as === 'blob') return r.blob();
      if (opts.as === 'text') return r.text();
      if (r.status === 204) return null;
      const ct = r.headers.get('Content-Type') || '';
      return ct.includes('json') ? r.json() : r.text();
    },

    /* Opens a modal dialog with the focus on its first field (else its first button). */
    openDlg(ref) {
      const d = this.$refs[ref];
      if (!d.open) d.showModal();
      this.$nextTick(() => {
        const vis = el => !el.disabled && el.offsetParent !== null;
        const f = [...d.querySelectorAll('input:not([type=hidden]), select, textarea')].find(vis) ||
                  [...d.querySelectorAll('button')].find(vis);
        if (f) f.focus();
      });
    },

    /* [text, class] of a peer's status. */
    peerBadge(p) {
      const st = p.status || {};
      if (p.disabled) return ['disabled', 'badge-off'];
      if (this.datePassed(p.expires)) return ['expired', 'badge-off'];
      if (st.latest_handshake && (this.now / 1000 - st.latest_handshake) < 180) return ['connected', 'badge-ok'];
      if (st.on_interface) return st.latest_handshake ? ['idle', 'badge-off'] : ['never connected', 'badge-off'];
      return ['not applied', 'badge-warn'];
    },

    clientBadge(c) {
      if (c.disabled) return ['disabled', 'badge-off'];
      if (this.datePassed(c.expires)) return ['expired', 'badge-off'];
      return c.status && c.status.connected ? ['connected', 'badge-ok'] : ['offline', 'badge-off'];
    },

    /* The name field's input handler: the typed text becomes a valid name at once. */
    slugInput(ev, form) {
      const v = slugName(ev.target.value, false);
      form.name = v;
      if (ev.target.value !== v) ev.target.value = v;
    },

    /* 1 when an expiry date (YYYY-MM-DD) is before today (UTC). */
    datePassed(d) {
      return !!d && /^\d{4}-\d{2}-\d{2}$/.test(d) && d < todayUTC(this.now);
    },

    /* The OpenVPN daemon's badge: a change not applied yet is not a failure. */
    ovpnDaemonBadge() {
      const on = this.ovpn.server && this.ovpn.server.enabled;
      const st = this.status || {};
      if (this.engStatus('openvpn').running) return on ? ['daemon running', 'badge-ok'] : ['daemon running until applied', 'badge-warn'];
      if (on && (st.applied_generation || 0) < (st.generation || 0)) return ['daemon starts when applied', 'badge-warn'];
      return on ? ['daemon stopped', 'badge-bad'] : ['daemon stopped', 'badge-off'];
    },

    toast(text, kind = 'ok') {
      const id = Date.now() + Math.random();
      this.toasts = this.toasts.concat([{ id, text, kind }]).slice(-3);
      setTimeout(() => { this.toasts = this.toasts.filter(t => t.id !== id); }, 4000);
    },

    /* Opens the confirmation dialog; resolves true when confirmed. */
    ask(title, text, action = 'Confirm', danger = true) {
      return new Promise(resolve => {
        this.confirmBox = { title, text, action, danger, resolve };
        this.$refs.confirmDlg.showModal();
      });
    },
    answer(ok) {
      const r = this.confirmBox.resolve;
      this.confirmBox.resolve = null;
      if (this.$refs.confirmDlg.open) this.$refs.confirmDlg.close();
      if (r) r(ok);
    },

    /* ---- session ------------------------------------------------------- */

    async doLogin() {
      this.login.error = '';
      this.login.busy = true;
      try {
        const r = await this.api('POST', '/auth/login',
          { username: this.login.username, password: this.login.password,
            device: localStorage.getItem(DEVICE_KEY) || undefined,
            /* two-factor login: the code once the server asked for it */
            totp: this.login.needCode && this.login.totp.trim() ? this.login.totp.replace(/\s/g, '') : undefined },
          { noLogout: true });
        this.token = r.token;
        /* failed logins of others behind the same proxy do not count against this browser */
        if (r.device) localStorage.setItem(DEVICE_KEY, r.device);
        sessionStorage.setItem(TOKEN_KEY, r.token);
        this.login.password = '';
        this.login.totp = ''; this.login.needCode = false; /* two-factor login */
        this.start();
      } catch (e) {
        /* two-factor login: the password was right, a code is needed */
        const code = e.status === 401 && e.body && e.body.totp_required;
        if (code) { this.login.error = this.login.needCode ? e.message : 'Enter the code of your authenticator app.'; this.login.needCode = true; this.login.totp = ''; this.$nextTick(() => document.getElementById('login-totp').focus()); return; }
        this.login.error = e.status === 429 ? 'Rate limited: ' + e.message
          : e.status === 401 ? 'Wrong username or password.' : e.message;
      } finally {
        this.login.busy = false;
      }
    },

    logout(msg) {
      this.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      if (this.es) { this.es.close(); this.es = null; }
      this.live = false;
      this.view = 'login';
      this.login.error = msg || '';
      history.replaceState(null, '', '#/login');
    },

    start() {
      this.route();
      this.loadStatus();
      this.connectEvents();
    },

    route() {
      if (!this.token) { this.view = 'login'; return; }
      const h = location.hash.replace(/^#\/?/, '');
      const v = VIEWS.includes(h) ? h : 'dashboard';
      if (h !== v) history.replaceState(null, '', '#/' + v);
      const moved = this.view !== v;
      this.view = v;
      this.navOpen = false;
      if (moved) {
        /* a new view starts at its top, with its heading focused, without the old toasts */
        this.toasts = [];
        window.scrollTo(0, 0);
        this.$nextTick(() => {
          const h = document.querySelector('[data-view="' + v + '"] [data-view-heading]');
          if (h) h.focus({ preventScroll: true });
        });
      }
      this.loadView();
    },

    go(v) {
      if (location.hash === '#/' + v) this.loadView(); else location.hash = '#/' + v;
    },

    loadView() {
      switch (this.view) {
      case 'wireguard': return this.loadWg();
      case 'openvpn': return this.loadOvpn();
      case 'singbox': return this.loadSb();   /* singbox.js */
      case 'plan': return this.loadPlan();
      case 'history': return this.loadHistory();
      case 'dashboard': return this.loadStatus();
      case 'settings': return this.loadSettingsExtra(); /* settings.js */
      }
    },

    /* ---- live status (SSE) --------------------------------------------- */

    connectEvents() {
      if (this.es) this.es.close();
      const es = new EventSource(API + '/events?token=' + encodeURIComponent(this.token));
      this.es = es;
      es.onopen = () => { this.live = true; };
      es.onerror = () => {
        this.live = false;
        /* EventSource retries by itself; a dead token shows up as a 401 here. */
        if (es.readyState === EventSource.CLOSED) {
          this.es = null;
          this.api('GET', '/status').then(s => { this.status = s; setTimeout(() => this.token && !this.es && this.connectEvents(), 3000); }).catch(() => {});
        }
      };
      es.addEventListener('status', ev => {
        this.live = true;
        this.status = JSON.parse(ev.data);
        /* the live status lags an apply by up to a tick: a peer applied since still reads
         * "not applied" in the list; read the list again once the state is applied */
        const st = this.status;
        if (this.view === 'wireguard' && st.applied_generation >= st.generation &&
            this.wg.peers.some(p => this.peerBadge(p)[0] === 'not applied')) this.loadPeers(true);
      });
      es.addEventListener('traffic', ev => this.onTraffic(JSON.parse(ev.data)));
      es.addEventListener('state', () => this.refreshQuiet());
      es.addEventListener('apply', ev => {
        const run = JSON.parse(ev.data);
        /* a "waiting for Apply" card is over once an apply ran */
        for (const k of ['wgResult', 'ovpnResult'])
          if (this.eng[k] && this.eng[k].pending && run) this.eng[k] = { ...this.eng[k], pending: false, ok: !!run.ok, error: run.error || '', actions: run.actions || [] };
        /* the Plan view's result card of an earlier apply goes when a later one ran */
        if (this.plan.result && run && run.generation > (this.plan.result.generation || 0)) this.plan.result = null;
        if (this.view !== 'dashboard' && this.view !== 'settings') this.loadView();
        this.loadStatus();
        if (run && run.trigger !== 'api' && run.trigger !== 'periodic' && run.ok === false) this.toast('Apply run failed: ' + (run.error || 'see Plan'), 'bad');
      });
      const refreshLists = () => {
        if (this.view === 'wireguard') this.loadPeers(true);
        if (this.view === 'openvpn') this.loadOvpn(true);
        if (this.view === 'singbox') this.loadSb(true);
      };
      es.addEventListener('connect', refreshLists);
      es.addEventListener('disconnect', refreshLists);
    },

    refreshQuiet() {
      this.loadStatus();
      if (this.view === 'wireguard') this.loadPeers(true);
      if (this.view === 'openvpn') this.loadOvpn(true);
      if (this.view === 'singbox') this.loadSb(true);
      if (this.view === 'plan') this.loadPlan();
      if (this.view === 'history') this.loadHistory();
    },

    async loadStatus() {
      try { this.status = await this.api('GET', '/status'); } catch (e) { /* shown by live flag */ }
    },

    onTraffic(t) {
      const seen = {};
      const add = (key, name, engine, rx, tx) => {
        seen[key] = true;
        const old = this.traffic[key];
        const e = old || { key, name, engine, rx: 0, tx: 0, rates: [], t: 0 };
        const now = Date.now() / 1000;
        if (old && now > e.t) {
          const r = Math.max(0, (rx - e.rx) + (tx - e.tx)) / (now - e.t);
          e.rates = e.rates.concat([r]).slice(-HISTORY_POINTS);
        }
        e.rx = rx; e.tx = tx; e.t = now;
        this.traffic[key] = e;
      };
      for (const p of (t && t.wireguard) || [])
        add('wg/' + p.interface + '/' + p.peer, p.peer, 'WireGuard ' + p.interface, p.rx_bytes || 0, p.tx_bytes || 0);
      for (const c of (t && t.openvpn) || [])
        add('ovpn/' + c.client, c.client, 'OpenVPN', c.bytes_received || 0, c.bytes_sent || 0);
      for (const k of Object.keys(this.traffic)) if (!seen[k]) delete this.traffic[k];
    },

    trafficRows() {
      return Object.values(this.traffic).sort((a, b) => (b.rx + b.tx) - (a.rx + a.tx));
    },

    /* The points of a sparkline polyline in a 120x28 box. */
    spark(rates) {
      if (!rates || rates.length < 2) return '';
      const max = Math.max(...rates, 1);
      /* Few samples still span a good part of the box; many fill it. */
      const step = 120 / (Math.max(rates.length, 12) - 1);
      const off = 120 - step * (rates.length - 1);
      return rates.map((r, i) => (off + i * step).toFixed(1) + ',' + (27 - (r / max) * 25).toFixed(1)).join(' ');
    },

    lastRate(rates) {
      return rates && rates.length ? fmtBytes(rates[rates.length - 1]) + '/s' : '–';
    },

    engineList() {
      const e = (this.status && this.status.engines) || {};
      return Object.keys(ENGINE_NAMES).filter(k => e[k]).map(k => ({ key: k, label: ENGINE_NAMES[k], ...e[k] }));
    },

    /* The one spelling of an engine's name in the panel. */
    engineLabel(key) {
      return ENGINE_NAMES[key] || key;
    },

    engineBadge(e) {
      if (!e.managed) return ['not managed', 'badge-off'];
      if (!e.enabled) return ['disabled', 'badge-off'];
      if (e.key === 'wireguard' && !e.interfaces) return ['no interface', 'badge-off'];
      return e.running ? ['running', 'badge-ok'] : ['stopped', 'badge-bad'];
    },

    /* settings.auto_apply as /status reports it (true until known). */
    autoApply() {
      return !this.status || this.status.auto_apply !== false;
    },

    /* The sentence a confirmation ends with: when does a change take effect. */
    whenApplied() {
      return this.autoApply() ? 'applied at once' : 'applied when you press Apply in the Plan view';
    },

    async setAutoApply(on) {
      this.settings.modeError = '';
      if (on && this.status && this.status.pending && !await this.ask('Automatic apply',
        'Switch to automatic apply? The changes pending now are applied at once (see the Plan view).', 'Switch', false)) return;
      try {
        await this.api('PATCH', '/settings', { auto_apply: on });
        this.toast(on ? 'Changes now apply at once' : 'Changes now wait for Apply');
        await this.loadStatus();
      } catch (e) { this.settings.modeError = e.message; }
    },

    memUsed() {
      const h = this.status && this.status.host;
      if (!h || !h.mem_total) return null;
      return { used: h.mem_total - h.mem_available, total: h.mem_total,
               pct: Math.round(100 * (h.mem_total - h.mem_available) / h.mem_total) };
    },

    /* ---- WireGuard ----------------------------------------------------- */

    async loadWg() {
      this.wg.error = '';
      this.loadHost();
      try {
        this.wg.ifaces = await this.api('GET', '/wireguard/interfaces');
        if (!this.wg.ifaces.some(i => i.name === this.wg.iface))
          this.wg.iface = this.wg.ifaces.length ? this.wg.ifaces[0].name : '';
        await this.loadPeers();
      } catch (e) {
        if (e.status !== 401) this.wg.error = e.message;
      }
    },

    async loadPeers(quiet) {
      if (!this.wg.iface) { this.wg.peers = []; return; }
      /* answers may cross: only the newest request's list is shown */
      const seq = this.wg.seq = (this.wg.seq || 0) + 1;
      try {
        const peers = await this.api('GET', '/wireguard/interfaces/' + encodeURIComponent(this.wg.iface) + '/peers');
        if (seq === this.wg.seq) this.wg.peers = peers;
      } catch (e) {
        if (!quiet && e.status !== 401) this.wg.error = e.message;
      }
    },

    currentIface() {
      return this.wg.ifaces.find(i => i.name === this.wg.iface) || null;
    },

    peerPath(p) {
      return '/wireguard/interfaces/' + encodeURIComponent(this.wg.iface) + '/peers/' + encodeURIComponent(p.name);
    },

    openPeerForm(p) {
      this.wg.formError = '';
      this.wg.editing = p ? p.name : null;
      this.wg.form = p ? {
        name: p.name, note: p.note || '', address: (p.address || []).join(', '),
        allowed_ips: (p.allowed_ips || []).join(', '), keepalive: p.keepalive || 0,
        expires: p.expires || '', disabled: !!p.disabled,
      } : { name: '', note: '', address: '', allowed_ips: '', keepalive: 0, expires: '', disabled: false };
      this.openDlg('peerDlg');
    },

    async savePeer() {
      const f = this.wg.form;
      const body = { note: f.note, keepalive: Number(f.keepalive) || 0, disabled: !!f.disabled };
      if (f.expires) body.expires = f.expires;
      else if (this.wg.editing) body.expires = null;
      if (f.address.trim()) body.address = splitList(f.address);
      else if (this.wg.editing) body.address = [];
      if (f.allowed_ips.trim()) body.allowed_ips = splitList(f.allowed_ips);
      else if (this.wg.editing) body.allowed_ips = [];
      this.wg.formError = '';
      try {
        if (this.wg.editing) {
          await this.api('PATCH', this.peerPath({ name: this.wg.editing }), body);
          this.toast('Peer ' + this.wg.editing + ' saved');
        } else {
          body.name = f.name = slugName(f.name, true);
          await this.api('POST', '/wireguard/interfaces/' + encodeURIComponent(this.wg.iface) + '/peers', body);
          this.toast('Peer ' + f.name + ' added');
        }
        this.$refs.peerDlg.close();
        await this.loadWg();
      } catch (e) {
        this.wg.formError = e.message;
      }
    },

    async togglePeer(p) {
      if (!p.disabled && !await this.ask('Disable peer', 'Disable peer "' + p.name + '"? It is removed from the interface (its session ends); its keys are kept.', 'Disable')) return;
      try {
        await this.api('PATCH', this.peerPath(p), { disabled: !p.disabled });
        this.toast('Peer ' + p.name + (p.disabled ? ' enabled' : ' disabled'));
        await this.loadPeers();
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async deletePeer(p) {
      if (!await this.ask('Delete peer', 'Delete peer "' + p.name + '" and its keys? Its config stops working for good.', 'Delete')) return;
      try {
        await this.api('DELETE', this.peerPath(p));
        this.toast('Peer ' + p.name + ' deleted');
        await this.loadWg();
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async downloadPeer(p) {
      try {
        const b = await this.api('GET', this.peerPath(p) + '/config', undefined, { as: 'blob' });
        saveBlob(b, p.name + '.conf');
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    /* The QR code needs the auth header, so it is fetched and shown from a blob URL. */
    async showQr(p) {
      this.closeQr();
      this.wg.qrError = '';
      this.wg.qrName = p.name;
      this.openDlg('qrDlg');
      try {
        const b = await this.api('GET', this.peerPath(p) + '/qr.svg', undefined, { as: 'blob' });
        this.wg.qrUrl = URL.createObjectURL(new Blob([b], { type: 'image/svg+xml' }));
      } catch (e) { this.wg.qrError = e.message; }
    },

    closeQr() {
      if (this.wg.qrUrl) URL.revokeObjectURL(this.wg.qrUrl);
      this.wg.qrUrl = '';
    },

    openIfaceForm() {
      this.wg.ifFormError = '';
      /* The first interface gets the usual defaults; later ones start empty. */
      const first = this.wg.ifaces.length === 0;
      this.wg.ifForm = { name: first ? 'wg0' : '', listen_port: 51820, address: first ? '10.8.0.1/24' : '', dns: '' };
      this.openDlg('ifDlg');
    },

    async saveIface() {
      const f = this.wg.ifForm;
      const body = { name: f.name, listen_port: Number(f.listen_port), address: splitList(f.address) };
      if (f.dns.trim()) body.dns = splitList(f.dns);
      this.wg.ifFormError = '';
      try {
        await this.api('POST', '/wireguard/interfaces', body);
        this.$refs.ifDlg.close();
        this.wg.iface = f.name;
        this.toast('Interface ' + f.name + ' added');
        await this.loadWg();
      } catch (e) { this.wg.ifFormError = e.message; }
    },

    async toggleIface(i) {
      if (!i.disabled && !await this.ask('Disable interface', 'Disable interface "' + i.name + '"? The interface goes down and all its peers are disconnected.' + this.engWhen(), 'Disable')) return;
      try {
        await this.api('PATCH', '/wireguard/interfaces/' + encodeURIComponent(i.name), { disabled: !i.disabled });
        this.toast('Interface ' + i.name + (i.disabled ? ' enabled' : ' disabled'));
        await this.loadWg();
        await this.followRun('wgResult', (i.disabled ? 'Enable ' : 'Disable ') + i.name);
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async deleteIface(i) {
      if (!await this.ask('Delete interface', 'Delete interface "' + i.name + '"? It is removed from the server with all its ' + i.peers + ' peer(s): every one of them is disconnected and their keys are lost for good.' + this.engWhen(), 'Delete')) return;
      try {
        await this.api('DELETE', '/wireguard/interfaces/' + encodeURIComponent(i.name));
        this.toast('Interface ' + i.name + ' deleted');
        await this.loadWg();
        await this.followRun('wgResult', 'Delete ' + i.name);
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    /* ---- OpenVPN ------------------------------------------------------- */

    async loadOvpn(quiet) {
      if (!quiet) { this.ovpn.error = ''; this.loadHost(); }
      try {
        /* 404: no openvpn section yet; the view offers to set it up. */
        const [server, clients] = await Promise.all([
          this.api('GET', '/openvpn').catch(e => { if (e.status === 404) return null; throw e; }),
          this.api('GET', '/openvpn/clients')]);
        this.ovpn.server = server;
        this.eng.ovpnMissing = server === null;
        this.ovpn.clients = clients;
        if (server && !quiet) this.loadOvpnRuns();
      } catch (e) {
        if (!quiet && e.status !== 401) this.ovpn.error = e.message;
      }
    },

    openClientForm() {
      this.ovpn.formError = '';
      this.ovpn.form = { name: '', static_ip: '', note: '', expires: '' };
      this.openDlg('clientDlg');
    },

    async saveClient() {
      const f = this.ovpn.form;
      f.name = slugName(f.name, true);
      const body = { name: f.name };
      if (f.static_ip.trim()) body.static_ip = f.static_ip.trim();
      if (f.note) body.note = f.note;
      if (f.expires) body.expires = f.expires;
      this.ovpn.formError = '';
      try {
        await this.api('POST', '/openvpn/clients', body);
        this.$refs.clientDlg.close();
        this.toast('Client ' + f.name + ' added');
        await this.loadOvpn();
      } catch (e) { this.ovpn.formError = e.message; }
    },

    clientPath(c) { return '/openvpn/clients/' + encodeURIComponent(c.name); },

    async toggleClient(c) {
      if (!c.disabled && !await this.ask('Disable client', 'Disable client "' + c.name + '"? It is refused at its next connection' + (c.status && c.status.connected ? ' and its current session is dropped' : '') + '.', 'Disable')) return;
      try {
        await this.api('PATCH', this.clientPath(c), { disabled: !c.disabled });
        this.toast('Client ' + c.name + (c.disabled ? ' enabled' : ' disabled'));
        await this.loadOvpn();
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async revokeClient(c) {
      if (!await this.ask('Revoke client', 'Revoke the certificate of "' + c.name + '"? This cannot be undone: the client needs a new profile to connect again.', 'Revoke')) return;
      try {
        await this.api('DELETE', this.clientPath(c));
        this.toast('Client ' + c.name + ' revoked');
        await this.loadOvpn();
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async downloadClient(c) {
      try {
        const b = await this.api('GET', this.clientPath(c) + '/config', undefined, { as: 'blob' });
        saveBlob(b, c.name + '.ovpn');
      } catch (e) {
        /* 404 for a listed client: its certificate is issued by the next apply */
        if (e.status === 404 && c.name) {
          this.toast('The profile of ' + c.name + ' is ready once the change is applied: ' +
            (this.autoApply() ? 'wait for the apply to finish, then download it again.' : 'press Apply in the Plan view first.'), 'bad');
        } else this.toast(e.message, 'bad');
      }
    },

    /* ---- Plan ---------------------------------------------------------- */

    async loadPlan() {
      this.plan.error = '';
      try {
        const [p, h] = await Promise.all([this.api('GET', '/plan'), this.api('GET', '/history')]);
        this.plan.data = p;
        this.plan.runs = (h.runs || []).slice(0, 5);
      } catch (e) { if (e.status !== 401) this.plan.error = e.message; }
    },

    planGroups() {
      const p = this.plan.data;
      if (!p) return [];
      const groups = (p.engines || []).map(e => ({ ...e, actions: [] }));
      for (const a of p.actions || []) {
        let g = groups.find(x => x.engine === a.engine);
        if (!g) { g = { engine: a.engine, status: '', note: '', actions: [] }; groups.push(g); }
        g.actions.push(a);
      }
      return groups;
    },

    /* The badge class of a driver's status in the plan. */
    engineStatusClass(st) {
      st = String(st || '');
      if (/^(ok|in sync|converged|ready)$/.test(st)) return 'badge-ok';
      if (/^(unmanaged|not managed|disabled)$/.test(st)) return 'badge-off';
      if (/error|fail|incomplete/.test(st)) return 'badge-bad';
      return 'badge-warn';
    },

    planImpact() {
      const acts = (this.plan.data && this.plan.data.actions) || [];
      const restarts = acts.filter(a => a.kind === 'restart' || a.kind === 'stop');
      return { restarts: restarts.length, drops: acts.reduce((n, a) => n + dropsCount(a.drops), 0) };
    },

    async applyPlan() {
      const imp = this.planImpact();
      if ((imp.restarts || imp.drops) && !await this.ask('Apply plan',
        'This apply restarts ' + imp.restarts + ' daemon(s) and drops ' + imp.drops + ' session(s). Apply now?', 'Apply')) return;
      this.plan.applying = true;
      this.plan.result = null;
      try {
        this.plan.result = await this.api('POST', '/apply');
        this.toast(this.plan.result.ok ? 'Applied: generation ' + this.plan.result.generation : 'Apply finished with errors', this.plan.result.ok ? 'ok' : 'bad');
      } catch (e) {
        this.plan.result = { ok: false, actions: [], error: e.message };
      } finally {
        this.plan.applying = false;
      }
      await this.loadPlan();
      await this.loadStatus();
    },

    /* ---- History ------------------------------------------------------- */

    async loadHistory() {
      this.hist.error = '';
      try { this.hist.data = await this.api('GET', '/history'); } catch (e) { if (e.status !== 401) this.hist.error = e.message; }
    },

    /* mode 'own': what generation g changed (against the one before it); 'current': g against now. */
    async showGen(g, mode = 'own') {
      this.hist.sel = g.gen;
      this.hist.detail = null;
      this.hist.mode = mode;
      try {
        this.hist.detail = await this.api('GET', '/history/' + encodeURIComponent(g.gen));
        this.$nextTick(() => { const el = document.getElementById('gen-diff'); if (el) el.scrollIntoView({ block: 'nearest' }); });
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    histTitle() {
      const d = this.hist.detail;
      if (!d) return '';
      if (this.hist.mode === 'current') return 'Generation ' + d.gen + ' → current (generation ' + d.current + ')';
      return d.previous ? 'What generation ' + d.gen + ' changed (against generation ' + d.previous + ')'
        : 'What generation ' + d.gen + ' set up' + (d.gen > 1 ? ' (the generation before it is no longer kept)' : '');
    },

    histDiff() {
      const d = this.hist.detail;
      if (!d) return '';
      return this.hist.mode === 'current' ? d.diff : d.previous_diff;
    },

    /* The restore dialog: what it changes (by engine and setting, with counts), then confirm. */
    async restoreGen(g, withSettings = false) {
      const r = this.restore;
      r.gen = g.gen;
      r.error = '';
      r.withSettings = withSettings;
      try {
        const d = await this.api('GET', '/history/' + encodeURIComponent(g.gen) + (withSettings ? '?with_settings=1' : ''));
        r.preview = d.restore;
        r.kept = withSettings ? r.kept : (d.restore.kept_settings || []);
      } catch (e) { this.toast(e.message, 'bad'); return; }
      this.openDlg('restoreDlg');
    },

    restoreCount() {
      const p = this.restore.preview;
      const n = p && p.changes ? p.changes.total : 0;
      return n === 0 ? 'This restore changes nothing.' : 'This restore changes ' + n + (n === 1 ? ' thing' : ' things') + ':';
    },

    restoreEngines() {
      const p = this.restore.preview;
      return ((p && p.changes && p.changes.engines) || []).map(e => {
        const parts = [];
        if (e.section !== 'changed') parts.push('section ' + e.section);
        for (const k of ['added', 'removed', 'changed']) if (e[k]) parts.push(e[k] + ' ' + k);
        return { key: e.engine, label: this.engineLabel(e.engine), summary: parts.join(', '),
                 items: (e.items || []).map(it => it.kind === 'setting'
                   ? '~ ' + it.name + ': ' + (it.from ?? '(none)') + ' → ' + (it.to ?? '(none)')
                   : it.op + ' ' + it.kind + ' ' + it.name + (it.fields ? ': ' + it.fields.join(', ') : '')) };
      });
    },

    async confirmRestore() {
      const r = this.restore;
      try {
        const res = await this.api('POST', '/history/' + encodeURIComponent(r.gen) + '/restore' + (r.withSettings ? '?with_settings=1' : ''));
        this.$refs.restoreDlg.close();
        this.toast('Generation ' + r.gen + ' restored as generation ' + res.generation + '; it is ' + this.whenApplied());
        this.hist.sel = null;
        this.hist.detail = null;
        await this.loadHistory();
        await this.loadStatus();
      } catch (e) { r.error = e.message; }
    },

    /* ---- Settings ------------------------------------------------------ */

    async changePassword() {
      const s = this.settings;
      s.pwMsg = ''; s.pwError = '';
      if (s.pw.next !== s.pw.again) { s.pwError = 'The two new passwords differ.'; return; }
      try {
        await this.api('POST', '/auth/password', { current_password: s.pw.current, new_password: s.pw.next }, { noLogout: true });
        /* Older tokens stop working: sign in again with the new password. */
        const r = await this.api('POST', '/auth/login', { username: this.login.username || 'admin', password: s.pw.next }, { noLogout: true });
        this.token = r.token;
        if (r.device) localStorage.setItem(DEVICE_KEY, r.device);
        sessionStorage.setItem(TOKEN_KEY, r.token);
        this.connectEvents();
        s.pw = { current: '', next: '', again: '' };
        s.pwMsg = 'Password changed.';
      } catch (e) {
        s.pwError = e.status === 401 ? 'The current password is wrong.' : e.message;
      }
    },

    async exportYaml() {
      try {
        const t = await this.api('GET', '/state', undefined, { as: 'text' });
        saveBlob(new Blob([t], { type: 'text/yaml' }), 'atlas.yaml');
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    async pickFile(ev) {
      const f = ev.target.files && ev.target.files[0];
      if (!f) return;
      this.settings.fileName = f.name;
      this.settings.yaml = await f.text();
      this.settings.preview = null;
    },

    async previewImport() {
      const s = this.settings;
      s.preview = null; s.importError = ''; s.importErrors = []; s.importMsg = '';
      try {
        s.preview = await this.api('PUT', '/state?dry_run=1', s.yaml, { type: 'text/yaml' });
      } catch (e) {
        s.importError = e.message;
        s.importErrors = (e.body && e.body.errors) || [];
      }
    },

    async storeImport() {
      const s = this.settings;
      if (!await this.ask('Import YAML', 'Replace the desired state with this file? The diff shown is what changes, and it is ' + this.whenApplied() + '.', 'Import')) return;
      try {
        const r = await this.api('PUT', '/state', s.yaml, { type: 'text/yaml' });
        s.importMsg = 'Stored as generation ' + r.generation + '.';
        s.preview = null;
        await this.loadStatus();
      } catch (e) {
        s.importError = e.message;
        s.importErrors = (e.body && e.body.errors) || [];
      }
    },

    ...atlasEngineMethods,     /* engines.js */
    ...atlasSingboxMethods,    /* singbox.js */
    ...atlasSettingsMethods,   /* settings.js */

    /* helpers exposed to the template */
    fmtBytes, fmtAgo, fmtTime, fmtUptime, actionMark, actionText, diffLines, dropsCount,
  }));
});
