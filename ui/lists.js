/*
 * lists.js - the user lists of the panel (WireGuard peers, OpenVPN clients,
 * sing-box users) as one kind of table: search by name, note or address,
 * sort by name, status, last seen or traffic, filters (connected, disabled,
 * expired or suspended), pages of LIST_PAGE rows, a selection and bulk
 * actions (disable, enable, delete) with one confirmation naming the count
 * and the users. The selection only ever holds rows that exist and match
 * the search and filter: each new computation of the rows (a list read
 * again, another search or filter) drops the others from it.
 *
 * Each engine mixin describes its list with a definition (listDef):
 *   { st: its listState(), items: [..], key(it), label: 'peer',
 *     text(it): what search looks in, status(it): a LIST_FILTERS key or
 *     'idle', seen(it): unix seconds, traffic(it): bytes,
 *     bulk(action, names): does it }
 * and registers it for its view with atlasList(view, method). The toolbar
 * and the pager in index.html are written once and follow the view shown.
 */
'use strict';

const LIST_PAGE = 50;
/* A bulk confirmation names this many users, then "and N more". */
const LIST_NAMES = 10;
const LIST_FILTERS = { all: 'All', connected: 'Connected', disabled: 'Disabled', expired: 'Expired or suspended' };
const LIST_SORTS = { name: 'Name', status: 'Status', seen: 'Last seen', traffic: 'Traffic' };
const LIST_DEFS = {};          /* view -> method returning its listDef */
/* The last computed rows of each list (by its state object): reading them
 * again while nothing changed costs nothing. */
const LIST_CACHE = new WeakMap();
/* Status order for sorting: who needs a look first. */
const STATUS_RANK = { connected: 0, idle: 1, expired: 2, suspended: 2, disabled: 3 };

function listState() {
  return { q: '', sort: 'name', desc: false, filter: 'all', page: 0, sel: {}, nsel: 0 };
}

/* The list of a view without one. */
const NO_LIST = { st: listState(), items: [], label: '', key: () => '', text: () => '', status: () => '',
                  seen: () => 0, traffic: () => 0, bulk: async () => {} };

function atlasList(view, method) {
  LIST_DEFS[view] = method;
}

atlasMixin(() => ({
  listFilters() { return LIST_FILTERS; },
  listSorts() { return LIST_SORTS; },

  /* The list of the view shown (the toolbar binds to it); an empty one for
   * a view without a list (the toolbar is hidden there, but its bindings
   * may run once more as the view changes). */
  curList() {
    const m = LIST_DEFS[this.view];
    return m ? this[m]() : NO_LIST;
  },

  hasList() { return !!LIST_DEFS[this.view]; },

  /*
   * The filtered, sorted list of def and the page shown:
   * {rows, total (matching), all, pages, page}. Computed on the raw items
   * (no reactive proxies: 5,000 rows cost a few ms) and kept until the
   * items, the search, the sort, the filter or the minute change.
   */
  listRows(def) {
    const st = def.st;
    const key = [st.q, st.sort, st.desc, st.filter, Math.floor(this.now / 60000)].join('\u0000');
    const items = Alpine.raw(def.items) || [];
    const raw = Alpine.raw(st), usage = Alpine.raw(this.usage.by);
    let c = LIST_CACHE.get(raw);
    if (!c || c.items !== items || c.key !== key || c.usage !== usage) {
      const q = st.q.trim().toLowerCase();
      let out = q ? items.filter(it => def.text(it).toLowerCase().includes(q)) : items.slice();
      if (st.filter !== 'all') {
        const want = st.filter === 'expired' ? ['expired', 'suspended'] : [st.filter];
        out = out.filter(it => want.includes(def.status(it)));
      }
      const by = {
        name: (a, b) => def.key(a) < def.key(b) ? -1 : def.key(a) > def.key(b) ? 1 : 0,
        status: (a, b) => (STATUS_RANK[def.status(a)] ?? 1) - (STATUS_RANK[def.status(b)] ?? 1),
        seen: (a, b) => (def.seen(b) || 0) - (def.seen(a) || 0),
        traffic: (a, b) => (def.traffic(b) || 0) - (def.traffic(a) || 0),
      }[st.sort] || (() => 0);
      const tie = st.sort === 'name' ? null : (a, b) => def.key(a) < def.key(b) ? -1 : 1;
      out.sort((a, b) => by(a, b) || (tie ? tie(a, b) : 0));
      if (st.desc) out.reverse();
      c = { items, key, out, usage };
      LIST_CACHE.set(raw, c);
      this.selPrune(def, out);
    }
    const pages = Math.max(1, Math.ceil(c.out.length / LIST_PAGE));
    const page = Math.min(st.page, pages - 1);
    return { rows: c.out.slice(page * LIST_PAGE, (page + 1) * LIST_PAGE), total: c.out.length,
             all: items.length, pages, page, matching: c.out };
  },

  /* "1–50 of 5000 (12 match)" */
  listCount(def) {
    const r = this.listRows(def);
    if (!r.total) return r.all ? 'None of ' + r.all + ' match' : 'None yet';
    return (r.page * LIST_PAGE + 1) + '–' + (r.page * LIST_PAGE + r.rows.length) + ' of ' + r.total +
      (r.total < r.all ? ' (' + r.all + ' in all)' : '');
  },

  listPage(def, d) {
    const r = this.listRows(def);
    def.st.page = Math.max(0, Math.min(r.pages - 1, r.page + d));
  },

  /* A change of search, sort or filter starts at the first page. */
  listReset(def) { def.st.page = 0; },

  isSel(def, it) { return !!def.st.sel[def.key(it)]; },

  toggleSel(def, it, on) {
    const k = def.key(it), sel = { ...def.st.sel };
    if (on) sel[k] = true; else delete sel[k];
    def.st.sel = sel;
    def.st.nsel = Object.keys(sel).length;
  },

  /* Ticks (or clears) every row of the page shown. */
  selPage(def, on) {
    const sel = { ...def.st.sel };
    for (const it of this.listRows(def).rows) { if (on) sel[def.key(it)] = true; else delete sel[def.key(it)]; }
    def.st.sel = sel;
    def.st.nsel = Object.keys(sel).length;
  },

  pageSelected(def) {
    const rows = this.listRows(def).rows;
    return rows.length > 0 && rows.every(it => def.st.sel[def.key(it)]);
  },

  /* Ticks every row that matches the search and filter (all pages). */
  selMatching(def) {
    const sel = {};
    for (const it of this.listRows(def).matching) sel[def.key(it)] = true;
    def.st.sel = sel;
    def.st.nsel = Object.keys(sel).length;
  },

  selClear(def) { def.st.sel = {}; def.st.nsel = 0; },

  /* Drops from the selection what is not in rows (deleted, or no longer
   * matching the search or filter). Read without tracking, written only
   * when something goes: the rows' bindings do not run again for nothing. */
  selPrune(def, rows) {
    const sel = Alpine.raw(def.st).sel, keys = Object.keys(sel);
    if (!keys.length) return;
    const keep = new Set(rows.map(def.key));
    if (keys.every(k => keep.has(k))) return;
    const next = {};
    for (const k of keys) if (keep.has(k)) next[k] = true;
    def.st.sel = next;
    def.st.nsel = Object.keys(next).length;
  },

  /* The names selected, in the order of the list: only rows that exist and match. */
  selNames(def) {
    const sel = def.st.sel;
    return this.listRows(def).matching.map(def.key).filter(k => sel[k]);
  },

  /* A bulk action on the selection: one confirmation that names the count
   * and the users ("Disable 3 peers: alice, bob, carol?"). */
  async listBulk(def, action) {
    const names = this.selNames(def);
    if (!names.length) return;
    const n = names.length, what = plural(n, def.label);
    const who = names.slice(0, LIST_NAMES).join(', ') + (n > LIST_NAMES ? ' and ' + (n - LIST_NAMES) + ' more' : '');
    const text = {
      disable: 'Disable ' + what + ': ' + who + '? They are cut off (their sessions end); nothing is deleted.',
      enable: 'Enable ' + what + ': ' + who + '? They can connect again.',
      delete: 'Delete ' + what + ' and their keys: ' + who + '? Their configs stop working for good.',
    }[action] + this.engWhen();
    if (!await this.ask(action[0].toUpperCase() + action.slice(1) + ' ' + what, text,
      action[0].toUpperCase() + action.slice(1) + ' ' + n, action !== 'enable')) return;
    /* a list read again while the dialog was open may have dropped some */
    const left = new Set(this.selNames(def)), todo = names.filter(k => left.has(k));
    if (!todo.length) return;
    try {
      await def.bulk(action, todo);
      this.selClear(def);
      this.toast(plural(todo.length, def.label) + ' ' + (action === 'delete' ? 'deleted' : action + 'd'));
    } catch (e) { this.toast(e.message, 'bad'); }
  },

  /* [text, class] of a list status. */
  statusBadge(s) {
    return { connected: ['connected', 'badge-ok'], disabled: ['disabled', 'badge-off'], expired: ['expired', 'badge-off'],
             suspended: ['suspended', 'badge-bad'], notapplied: ['not applied', 'badge-warn'],
             never: ['never connected', 'badge-off'], idle: ['idle', 'badge-off'] }[s] || [s, 'badge-off'];
  },
}));
