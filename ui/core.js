/*
 * core.js - the frame of the Atlas panel: the API client, the session, the
 * live events (SSE), toasts, the confirmation dialog, routing between views,
 * and the helpers every view shares (formatting, copy, download; the result
 * card of an edit is in apply.js). The views are mixins (wireguard.js,
 * openvpn.js, singbox.js, overview.js, admin.js, ...) that register with
 * atlasMixin(); the one Alpine.js component `atlas` is the core plus them.
 *
 * Rules kept everywhere: every request goes through api(), which adds the
 * bearer token kept in sessionStorage and turns a 401 into the login view;
 * every user-supplied string reaches the page through x-text only, never as
 * markup; every destructive action goes through ask(), a <dialog>
 * confirmation (never window.confirm). Nothing is loaded from elsewhere.
 */
'use strict';

const TOKEN_KEY = 'atlas.token';
const DEVICE_KEY = 'atlas.device';
const API = '/api/v1';

/* The registered views: name -> {load(quiet), mixin}. */
const ATLAS_VIEWS = {};
const ATLAS_MIXINS = [];

/*
 * Adds a mixin to the component: make() returns its state tree and methods
 * (called once per component, so the state is its own). views maps the
 * view names it shows to the method that loads each (called with quiet =
 * true for a refresh after a live event).
 */
function atlasMixin(make, views = {}) {
  ATLAS_MIXINS.push(make);
  Object.assign(ATLAS_VIEWS, views);
}

/* An HTTP error carrying the server's message, status and field. */
class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.field = body && body.field ? body.field : null;
    this.body = body || null;
  }
}

/* "1 peer", "2 peers": n and the word in its number (many: an irregular plural). */
function plural(n, one, many) { n = Number(n) || 0; return n + ' ' + (n === 1 ? one : (many || one + 's')); }

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

function fmtTime(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : '–';
}

function splitList(s) {
  return String(s || '').split(/[\s,]+/).filter(Boolean);
}

/* Today as YYYY-MM-DD in UTC: an expiry date is valid through that day, UTC. */
function todayUTC(nowMs) {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/*
 * A display name turned into a valid resource name as the user types:
 * lowercase, one dash for each run of spaces and other characters, at most
 * 63 ("Alice Phone" -> "alice-phone", "Zoë" -> "zoe"). While typing a trailing dash stays
 * (the next word follows); done = true drops it, as the server's
 * suggestion does (state/validate.c name_suggest).
 */
/* The Latin letters of U+00C0..U+017F that lose more than marks (the server's table is the same). */
const SLUG_LATIN = { 'æ': 'ae', 'ð': 'd', 'ø': 'o', 'þ': 'th', 'ß': 'ss', 'đ': 'd', 'ħ': 'h', 'ı': 'i',
  'ĸ': 'k', 'ŀ': 'l', 'ł': 'l', 'ŉ': 'n', 'ŋ': 'n', 'œ': 'oe', 'ŧ': 't', 'ſ': 's' };
function slugLatin(ch) {
  const c = ch.codePointAt(0);
  if (c < 0xC0 || c > 0x17F) return ch;
  const l = ch.toLowerCase();
  if (SLUG_LATIN[l]) return SLUG_LATIN[l];
  const b = l.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return /^[a-z]+$/.test(b) ? b : ch;
}
function slugName(v, done) {
  /* a run of other characters is one dash, with the dashes next to it ("strasse-😀": "strasse-") */
  let s = Array.from(String(v || ''), slugLatin).join('').toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '\0').replace(/-*\0[-\0]*/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
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

/* A download name: letters, digits and - _ . only ("alice-wg0.conf"). */
function fileName(...parts) {
  const ext = parts.pop();
  return parts.filter(Boolean).map(p => String(p).replace(/[^A-Za-z0-9_.-]+/g, '_')).join('-') + ext;
}

/* The shared blocks (result card, server address form) are written once in
 * index.html and moved into the slot of the view shown. */
const SHARED_SLOTS = { result: '[data-result-slot]', host: '[data-host-slot]', list: '[data-list-slot]' };

document.addEventListener('alpine:init', () => {
  /* settings.js (API tokens, two-factor login) keeps its state and methods
   * as globals: it is taken in as one more mixin. */
  if (typeof atlasSettingsState === 'function')
    ATLAS_MIXINS.push(() => ({ tok: atlasSettingsState(), ...atlasSettingsMethods }));
  Alpine.data('atlas', () => {
    const c = atlasCore();
    for (const make of ATLAS_MIXINS) Object.assign(c, make());
    return c;
  });
});

function atlasCore() {
  return {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    view: 'dashboard',
    viewArg: '',          /* what follows the view in the hash: #/user/NAME */
    loaded: '',           /* the view whose data has loaded (tests wait for it) */
    navOpen: false,
    now: Date.now(),
    toasts: [],
    login: { username: 'admin', password: '', error: '', busy: false,
             totp: '', needCode: false /* two-factor login (settings.js) */ },
    status: null,
    live: false,
    es: null,
    runs: [],             /* the apply runs the live events reported, newest last */
    waiters: [],          /* followRun()s waiting for a run: functions of a run or status */
    confirmBox: { title: '', text: '', action: 'Confirm', danger: true, resolve: null },
    /* the QR dialog: kind 'wg' (a config) or 'sb' (a link, a subscription) */
    qr: { kind: '', title: '', alt: '', text: '', url: '', error: '' },

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
        headers['Content-Type'] = typeof body === 'string' ? opts.type || 'text/plain' : 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
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

    /* One edit of a user: the request, a toast saying what was done, the view's
     * list read again; a refusal is a toast. */
    async edit(method, path, body, done, reload) {
      try {
        await this.api(method, path, body);
        this.toast(done);
        await reload();
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    /* Downloads path as name; 404 handling is the caller's (onError). */
    async download(path, name, onError) {
      try {
        saveBlob(await this.api('GET', path, undefined, { as: 'blob' }), name);
      } catch (e) {
        if (!onError || !onError(e)) this.toast(e.message, 'bad');
      }
    },

    /* Copies text; the fallback selects a hidden field's text (no clipboard API off https). */
    async copy(text, what) {
      try {
        await navigator.clipboard.writeText(text);
      } catch (e) {
        const t = document.createElement('textarea');
        t.value = text;
        t.setAttribute('readonly', '');
        t.className = 'sr-only';
        document.body.appendChild(t);
        t.select();
        const ok = document.execCommand('copy');
        t.remove();
        if (!ok) { this.toast('Cannot copy here: select the text and copy it', 'bad'); return; }
      }
      this.toast(what + ' copied');
    },

    /* Copies the text of a file of the API (a config, a profile). */
    async copyFile(path, what) {
      try {
        await this.copy(String(await this.api('GET', path, undefined, { as: 'text' })), what);
      } catch (e) { this.toast(e.message, 'bad'); }
    },

    /* Fetches an SVG of the API (it needs the auth header) as a blob URL for an <img>. */
    async svgUrl(path) {
      const b = await this.api('GET', path, undefined, { as: 'blob' });
      return URL.createObjectURL(new Blob([b], { type: 'image/svg+xml' }));
    },

    /* Shows the QR code SVG at path (the API's, fetched with the auth header). */
    async showQrOf(kind, title, alt, text, path) {
      this.closeQr();
      this.qr = { kind, title, alt, text, url: '', error: '' };
      this.openDlg('qrDlg');
      try { this.qr.url = await this.svgUrl(path); } catch (e) { this.qr.error = e.message; }
    },

    closeQr() {
      if (this.qr.url) URL.revokeObjectURL(this.qr.url);
      this.qr.url = '';
      this.qr.error = '';
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
        this.setToken(r);
        this.login.password = '';
        this.login.totp = '';
        this.login.needCode = false;
        this.start();
      } catch (e) {
        /* the password was right, a code is needed */
        if (e.status === 401 && e.body && e.body.totp_required) {
          this.login.error = this.login.needCode ? e.message : 'Enter the code of your authenticator app.';
          this.login.needCode = true;
          this.login.totp = '';
          return;
        }
        this.login.error = e.status === 429 ? 'Rate limited: ' + e.message
          : e.status === 401 ? 'Wrong username or password.' : e.message;
      } finally {
        this.login.busy = false;
      }
    },

    /* Keeps a login's token (and its device id: failed logins of others
     * behind the same proxy do not count against this browser). */
    setToken(r) {
      this.token = r.token;
      if (r.device) localStorage.setItem(DEVICE_KEY, r.device);
      sessionStorage.setItem(TOKEN_KEY, r.token);
    },

    logout(msg) {
      /* A modal dialog is above everything: none may stay open over the
       * login form (the confirmation's close answers no). */
      document.querySelectorAll('dialog[open]').forEach(d => d.close());
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

    /* ---- routing ------------------------------------------------------- */

    /* #/VIEW or #/VIEW/ARG (a user's page: #/user/alice). */
    route() {
      if (!this.token) { this.view = 'login'; return; }
      const h = location.hash.replace(/^#\/?/, '');
      const [name, ...rest] = h.split('/');
      const v = name in ATLAS_VIEWS ? name : 'dashboard';
      if (name !== v) history.replaceState(null, '', '#/' + v);
      this.viewArg = v === name ? decodeURIComponent(rest.join('/')) : '';
      const moved = this.view !== v;
      this.view = v;
      this.navOpen = false;
      this.$nextTick(() => this.placeShared(v));
      if (moved) {
        /* a new view starts at its top, with its heading focused, without the old toasts */
        this.toasts = [];
        window.scrollTo(0, 0);
        this.$nextTick(() => this.focusHeading(v, 20));
      }
      return this.loadView();
    },

    /*
     * Focuses view v's heading. A heading in a section not shown yet (x-show)
     * takes no focus, and the old view's focused element may keep it while
     * hidden: then again at the next frame, up to tries times, as long as v
     * is the view and the focus is not on something of view v already.
     */
    focusHeading(v, tries) {
      const sec = document.querySelector('[data-view="' + v + '"]');
      const hd = sec && sec.querySelector('[data-view-heading]');
      if (!hd || this.view !== v) return;
      hd.focus({ preventScroll: true });
      const a = document.activeElement;
      if (a !== hd && !(a && a !== document.body && sec.contains(a)) && tries > 0)
        requestAnimationFrame(() => this.focusHeading(v, tries - 1));
    },

    /* Shows view v; shown already, it loads its data again (no hashchange then). */
    go(v) {
      if (location.hash === '#/' + v) return this.loadView();
      this.loaded = '';
      location.hash = '#/' + v;
    },

    /* Loads the data of the view shown; `loaded` names it once done. */
    async loadView(quiet) {
      const v = this.view;
      if (!quiet) this.loaded = '';
      const m = ATLAS_VIEWS[v];
      try {
        if (m) await this[m](quiet);
      } finally {
        if (this.view === v) this.loaded = v;
      }
    },

    /* Moves the shared blocks into the slots of view v. */
    placeShared(v) {
      for (const [ref, sel] of Object.entries(SHARED_SLOTS)) {
        const el = this.$refs[ref + 'Shared'], slot = document.querySelector('[data-view="' + v + '"] ' + sel);
        if (el && slot && el.parentNode !== slot) slot.appendChild(el);
      }
    },

    /* The engine whose blocks the shared ones show. */
    viewEngine() {
      return ENGINE_NAMES[this.view] ? this.view : '';
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
        this.wake(null);
        if (this.onStatus) this.onStatus();
      });
      es.addEventListener('traffic', ev => { if (this.onTraffic) this.onTraffic(JSON.parse(ev.data)); });
      es.addEventListener('state', () => this.refreshQuiet());
      es.addEventListener('apply', ev => this.onApply(JSON.parse(ev.data)));
      for (const e of ['connect', 'disconnect', 'suspended', 'resumed'])
        es.addEventListener(e, () => { if (this.view !== 'dashboard') this.loadView(true); });
    },

    onApply(run) {
      if (!run) return;
      this.runs = this.runs.concat([run]).slice(-20);
      this.wake(run);
      /* a "waiting for Apply" card is over once an apply ran */
      for (const k of Object.keys(this.results)) {
        const r = this.results[k];
        if (r && r.pending) this.results[k] = { ...r, pending: false, ok: !!run.ok, error: run.error || '', actions: run.actions || [] };
      }
      if (this.onApplied) this.onApplied(run);
      if (this.view !== 'dashboard' && this.view !== 'settings') this.loadView(true);
      this.loadStatus();
      if (run.trigger !== 'api' && run.trigger !== 'periodic' && run.ok === false) this.toast('Apply run failed: ' + (run.error || 'see Plan'), 'bad');
    },

    /* Hands a run (or, for null, the new status) to every waiting followRun. */
    wake(run) {
      this.waiters = this.waiters.filter(w => !w(run));
    },

    refreshQuiet() {
      this.loadStatus();
      if (this.view !== 'dashboard' && this.view !== 'settings') this.loadView(true);
    },

    async loadStatus() {
      try { this.status = await this.api('GET', '/status'); } catch (e) { /* shown by live flag */ }
    },

    /* The engine's entry of /status, or {}. */
    engStatus(key) {
      return (this.status && this.status.engines && this.status.engines[key]) || {};
    },

    /* The one spelling of an engine's name in the panel. */
    engineLabel(key) {
      return ENGINE_NAMES[key] || key;
    },

    fmtBytes, fmtAgo, fmtTime,
  };
}
