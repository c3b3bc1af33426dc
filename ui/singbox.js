/*
 * singbox.js - the sing-box tab of the Atlas panel, one mixin of the
 * `atlas` component (core.js) with its own state tree under `sb`:
 * inbounds grouped by protocol, a create / edit form per protocol that shows
 * only that protocol's fields, and the people (one user name across
 * inbounds): add, edit, disable, delete, and a person's page with every
 * share link (copy, QR), the subscription URL (copy, QR, rotate), live
 * connections and traffic.
 *
 * Same rules as core.js: requests through this.api(), user text through
 * x-text only, destructive actions confirmed with this.ask(). A refusal of
 * the API is shown at the field it names (ApiError.field).
 */
'use strict';

/* What each protocol has: the securities it allows (the first is its
 * default), whether it takes a transport, the default port, and what the
 * port is (TCP or UDP). */
const SB_PROTOCOLS = {
  vless:       { label: 'VLESS',       security: ['reality', 'tls', 'none'], transport: true,  port: 443,  net: 'TCP' },
  vmess:       { label: 'VMess',       security: ['none', 'tls'],            transport: true,  port: 10086, net: 'TCP' },
  trojan:      { label: 'Trojan',      security: ['tls'],                    transport: true,  port: 8443, net: 'TCP' },
  shadowsocks: { label: 'Shadowsocks', security: ['none'],                   transport: false, port: 8388, net: 'TCP and UDP' },
  hysteria2:   { label: 'Hysteria2',   security: ['tls'],                    transport: false, port: 443,  net: 'UDP' },
  tuic:        { label: 'TUIC',        security: ['tls'],                    transport: false, port: 8443, net: 'UDP' },
};
const SB_SECURITY_NAMES = { reality: 'REALITY', tls: 'TLS', none: 'none' };
const SB_METHODS = ['2022-blake3-aes-128-gcm', '2022-blake3-aes-256-gcm'];
const SB_TRANSPORTS = ['tcp', 'ws', 'grpc', 'httpupgrade'];
/* The keys a form may send (besides name, type, users). */
const SB_KEYS = ['port', 'listen', 'security', 'server_name', 'reality_handshake',
  'tls_certificate', 'tls_key', 'transport', 'path', 'method'];

/* The component state under `sb`. */
function atlasSingboxState() {
  return { list: listState(), loaded: false, error: '', inbounds: [], users: {}, persons: [], missing: false,
           /* inbound form: create (editing '') or edit (editing NAME) */
           form: {}, editing: '', errors: {}, formError: '',
           /* person form: add (editing '') or edit */
           uform: {}, uediting: '', uerrors: {}, uformError: '',
           /* the person page */
           sel: '', links: [], sub: '', subError: '', linkError: '' };
}

/* sbPersons() by the persons array they were made of. */
const SB_PERSONS = new WeakMap();

function sbUserPath(inbound, name) {
  return '/singbox/inbounds/' + encodeURIComponent(inbound) + '/users/' + encodeURIComponent(name);
}

/* Methods of the component (`this` is the Alpine component). */
const atlasSingboxMethods = {
  /* sing-box users by person (lists.js): bulk actions go to each inbound
   * the selected people are in, one generation per inbound. */
  sbList() {
    return {
      st: this.sb.list, items: this.sbPersons(), label: 'user', key: p => p.name,
      text: p => p.name + ' ' + (p.note || '') + ' ' + p.inbounds.join(' '),
      status: p => p.disabled ? 'disabled' : this.datePassed(p.expires) ? 'expired'
        : this.usageState('singbox', p.name) === 'suspended' ? 'suspended'
        : p.status && p.status.connections > 0 ? 'connected' : 'idle',
      seen: p => p.status && p.status.connections > 0 ? this.now / 1000 : 0,
      traffic: p => p.status ? (p.status.uplink_bytes || 0) + (p.status.downlink_bytes || 0) : 0,
      bulk: async (action, names) => {
        for (const i of this.sb.inbounds) {
          const mine = names.filter(n => this.sbUser(i.name, n));
          if (mine.length) await this.api('POST', '/singbox/inbounds/' + encodeURIComponent(i.name) + '/users:bulk', { action, names: mine });
        }
        await this.loadSb(true);
        await this.sbFollow(action[0].toUpperCase() + action.slice(1) + ' ' + plural(names.length, 'user'));
      },
    };
  },

  sbProtocols() { return SB_PROTOCOLS; },
  sbProto(t) { return SB_PROTOCOLS[t] || { label: t, security: [], transport: false, net: '' }; },
  sbMethods() { return SB_METHODS; },
  sbTransports() { return SB_TRANSPORTS; },
  sbSecName(s) { return SB_SECURITY_NAMES[s] || s; },

  /* An inbound's security with `auto` resolved (what it really runs). */
  sbSecurity(i) {
    return i.security && i.security !== 'auto' ? i.security : this.sbProto(i.type).security[0];
  },

  async loadSb(quiet) {
    if (!quiet) { this.sb.error = ''; this.loadHost(); this.loadUsage(0); }
    try {
      const [ins, persons] = await Promise.all([this.api('GET', '/singbox/inbounds'), this.api('GET', '/singbox/users')]);
      const users = {};
      await Promise.all(ins.map(async i => {
        users[i.name] = await this.api('GET', '/singbox/inbounds/' + encodeURIComponent(i.name) + '/users');
      }));
      this.sb.inbounds = ins;
      this.sb.users = users;
      this.sb.persons = persons;
      this.sb.missing = ins.length === 0;
      this.sb.loaded = true;
      if (this.sb.sel && !persons.some(p => p.name === this.sb.sel)) this.sbClosePerson();
    } catch (e) {
      if (!quiet && e.status !== 401) this.sb.error = e.message;
    }
  },

  /* Inbounds grouped by protocol, in the order of SB_PROTOCOLS. */
  sbGroups() {
    return Object.keys(SB_PROTOCOLS).map(t => ({ type: t, label: SB_PROTOCOLS[t].label,
      inbounds: this.sb.inbounds.filter(i => i.type === t) })).filter(g => g.inbounds.length);
  },

  /* The user entry of name in an inbound, or null. */
  sbUser(inbound, name) {
    return (this.sb.users[inbound] || []).find(u => u.name === name) || null;
  },

  /* A person: {name, inbounds, note, disabled (all), some disabled, expires, status}. */
  sbPerson(p) {
    const us = p.inbounds.map(i => this.sbUser(i, p.name)).filter(Boolean);
    const first = us[0] || {};
    return { name: p.name, inbounds: p.inbounds, note: first.note || '', expires: first.expires || '',
             quota_bytes: first.quota_bytes || 0,
             disabled: us.length > 0 && us.every(u => u.disabled), partly: us.some(u => u.disabled) && !us.every(u => u.disabled),
             status: first.status || null };
  },

  /* The people, computed once per load (the list caches on this array). */
  sbPersons() {
    const raw = Alpine.raw(this.sb.persons), users = Alpine.raw(this.sb.users);
    let c = SB_PERSONS.get(raw);
    if (!c || c.users !== users) {
      c = { users, list: this.sb.persons.map(p => this.sbPerson(p)) };
      SB_PERSONS.set(raw, c);
    }
    return c.list;
  },

  sbPersonBadge(p) {
    if (p.disabled) return ['disabled', 'badge-off'];
    if (p.expires && p.expires < new Date().toISOString().slice(0, 10)) return ['expired', 'badge-off'];
    if (p.status && p.status.connections > 0) return [plural(p.status.connections, 'connection'), 'badge-ok'];
    if (p.partly) return ['partly disabled', 'badge-warn'];
    return ['idle', 'badge-off'];
  },

  /* ---- inbound form ------------------------------------------------- */

  /* The defaults of a protocol, for a new inbound. */
  sbDefaults(type, keep) {
    const p = this.sbProto(type);
    const used = new Set(this.sb.inbounds.map(i => i.name));
    let name = type === 'shadowsocks' ? 'ss' : type === 'hysteria2' ? 'hy2' : type;
    for (let n = 2; used.has(name); n++) name = name.replace(/\d+$/, '') + n;
    return { name, type, port: p.port, security: p.security[0],
             server_name: type === 'vless' ? 'www.example.com' : '', reality_handshake: '',
             tls_certificate: '', tls_key: '', transport: 'tcp', path: '',
             method: SB_METHODS[0], listen: '', user: keep || (this.sb.persons[0] ? this.sb.persons[0].name : '') };
  },

  sbOpenInbound(i) {
    this.sb.errors = {};
    this.sb.formError = '';
    if (i) {
      this.sb.editing = i.name;
      const f = { ...this.sbDefaults(i.type), name: i.name, user: '' };
      for (const k of SB_KEYS) if (i[k] !== null && i[k] !== undefined) f[k] = i[k];
      f.security = this.sbSecurity(i);
      f.orig = { ...f };
      this.sb.form = f;
    } else {
      this.sb.editing = '';
      this.sb.form = this.sbDefaults('vless');
    }
    this.$refs.sbInDlg.showModal();
  },

  /* The protocol changed in the create form: that protocol's defaults. */
  sbTypeChanged() {
    const f = this.sb.form;
    this.sb.form = { ...this.sbDefaults(f.type, f.user) };
    this.sb.errors = {};
  },

  /* Which fields the form shows for its protocol and security. */
  sbShows(key) {
    const f = this.sb.form, p = this.sbProto(f.type), sec = f.security;
    switch (key) {
    case 'security': return p.security.length > 1;
    case 'server_name': return sec === 'reality' || sec === 'tls';
    case 'reality_handshake': return sec === 'reality';
    case 'tls_certificate': return sec === 'tls';
    case 'transport': return p.transport && sec !== 'reality';
    case 'path': return p.transport && sec !== 'reality' && f.transport !== 'tcp';
    case 'method': return f.type === 'shadowsocks';
    }
    return true;
  },

  /* The error of a field (the API names it; users[0].name is the first user). */
  sbErr(key) {
    return this.sb.errors[key] || '';
  },

  sbFieldOf(field) {
    if (!field) return '';
    if (/^users\[\d+\]\.name$/.test(field) || field === 'users') return 'user';
    return field;
  },

  /* The body of the form: only what the protocol has; on edit only what changed. */
  sbInboundBody() {
    const f = this.sb.form, body = {};
    for (const k of SB_KEYS) {
      if (k !== 'port' && k !== 'listen' && !this.sbShows(k === 'tls_key' ? 'tls_certificate' : k)) continue;
      let v = k === 'port' ? Number(f.port) : String(f[k] || '').trim();
      if (v === '' && k !== 'port') v = null;
      if (this.sb.editing) {
        const o = f.orig[k] === '' || f.orig[k] === undefined ? null : f.orig[k];
        if (v === o) continue;
      } else if (v === null) continue;
      body[k] = v;
    }
    if (!this.sb.editing && f.type === 'shadowsocks') delete body.security;
    return body;
  },

  /* Does saving this edit reload sing-box (everything but a Shadowsocks user change does)? */
  sbInboundDrops() {
    const n = this.sbConnections();
    return 'Saving reloads sing-box: ' + (n === 0 ? 'no connection is open now.'
      : 'it drops ' + plural(n, 'open connection') + ' of every user (clients reconnect by themselves).');
  },

  /* Open connections across the people, from their live status. */
  sbConnections() {
    return this.sbPersons().reduce((n, p) => n + ((p.status && p.status.connections) || 0), 0);
  },

  async sbSaveInbound() {
    const f = this.sb.form, body = this.sbInboundBody();
    this.sb.errors = {};
    this.sb.formError = '';
    if (this.sb.editing && Object.keys(body).length === 0) { this.$refs.sbInDlg.close(); this.toast('Nothing changed'); return; }
    try {
      if (this.sb.editing) {
        await this.api('PATCH', '/singbox/inbounds/' + encodeURIComponent(this.sb.editing), body);
        this.toast('Inbound ' + this.sb.editing + ' saved');
      } else {
        if (!String(f.user).trim()) { this.sb.errors = { user: 'an inbound needs its first user' }; return; }
        await this.api('POST', '/singbox/inbounds', { name: String(f.name).trim(), type: f.type, ...body,
          users: [{ name: String(f.user).trim() }] });
        this.toast('Inbound ' + f.name + ' created');
      }
      this.$refs.sbInDlg.close();
      await this.loadSb(true);
      await this.sbFollow(this.sb.editing ? 'Edit ' + this.sb.editing : 'Create ' + f.name);
    } catch (e) {
      const k = this.sbFieldOf(e.field);
      if (k) this.sb.errors = { [k]: e.message }; else this.sb.formError = e.message;
    }
  },

  async sbDeleteInbound(i) {
    if (!await this.ask('Delete inbound', 'Delete inbound "' + i.name + '" and its ' + plural(i.users, 'user') + '? Their links for it stop working for good, and sing-box reloads: ' +
      (this.sbConnections() ? 'it drops ' + plural(this.sbConnections(), 'open connection') + ' of every user.' : 'no connection is open now.') + this.engWhen(), 'Delete')) return;
    try {
      await this.api('DELETE', '/singbox/inbounds/' + encodeURIComponent(i.name));
      this.toast('Inbound ' + i.name + ' deleted');
      await this.loadSb(true);
      await this.sbFollow('Delete ' + i.name);
    } catch (e) { this.toast(e.message, 'bad'); }
  },

  /* After an edit: the apply run's result (core.js followRun), then a reload of the tab. */
  async sbFollow(label) {
    await this.followRun('singbox', label);
    await this.loadSb(true);
    if (this.sb.sel) await this.sbLoadPerson();
  },

  /* ---- people ------------------------------------------------------- */

  sbOpenUser(p) {
    this.sb.uerrors = {};
    this.sb.uformError = '';
    const all = this.sb.inbounds.map(i => i.name);
    if (p) {
      this.sb.uediting = p.name;
      this.sb.uform = { name: p.name, note: p.note, expires: p.expires, quota: p.quota_bytes ? String(p.quota_bytes / 1073741824) : '',
                        disabled: p.disabled, inbounds: all.filter(n => p.inbounds.includes(n)), orig: p };
    } else {
      this.sb.uediting = '';
      this.sb.uform = { name: '', note: '', expires: '', quota: '', disabled: false, inbounds: all.slice(), orig: null };
    }
    this.$refs.sbUserDlg.showModal();
  },

  /* The body of a user from the person form (quota in GiB). */
  sbUserBody() {
    const f = this.sb.uform, body = { note: f.note || null, disabled: !!f.disabled,
      expires: f.expires || null, quota_bytes: Math.round((Number(f.quota) || 0) * 1073741824) };
    return body;
  },

  /* Adds the person to the ticked inbounds, edits them where they are, and
   * removes them from the unticked ones (after a confirmation). */
  async sbSaveUser() {
    const f = this.sb.uform, name = String(f.name).trim(), body = this.sbUserBody();
    const was = f.orig ? f.orig.inbounds : [];
    const add = f.inbounds.filter(i => !was.includes(i)), keep = f.inbounds.filter(i => was.includes(i));
    const drop = was.filter(i => !f.inbounds.includes(i));
    this.sb.uerrors = {};
    this.sb.uformError = '';
    if (!f.inbounds.length) { this.sb.uerrors = { inbounds: 'tick at least one inbound (to remove the user everywhere, use Delete)' }; return; }
    if (drop.length && !await this.ask('Remove from inbounds', 'Remove "' + name + '" from ' + drop.join(', ') + '? Those links stop working for good.', 'Remove')) return;
    let done = 0;
    try {
      for (const i of add) { await this.api('POST', '/singbox/inbounds/' + encodeURIComponent(i) + '/users', { name, ...body }); done++; }
      const o = f.orig;
      const changed = o && (body.note !== (o.note || null) || body.disabled !== o.disabled || body.expires !== (o.expires || null) || body.quota_bytes !== (o.quota_bytes || 0));
      if (changed) for (const i of keep) { await this.api('PATCH', sbUserPath(i, name), body); done++; }
      for (const i of drop) { await this.api('DELETE', sbUserPath(i, name)); done++; }
      this.$refs.sbUserDlg.close();
      this.toast(done === 0 ? 'Nothing changed' : 'User ' + name + (f.orig ? ' saved' : ' added'));
      await this.loadSb(true);
      if (done) await this.sbFollow((f.orig ? 'Edit ' : 'Add ') + name);
    } catch (e) {
      if (done) await this.loadSb(true);
      const k = e.field === 'name' ? 'name' : ['note', 'expires', 'quota_bytes'].includes(e.field) ? e.field : '';
      if (k) this.sb.uerrors = { [k]: e.message }; else this.sb.uformError = e.message;
    }
  },

  async sbToggleUser(p) {
    const off = !p.disabled;
    if (off && !await this.ask('Disable user', 'Disable "' + p.name + '" in ' + p.inbounds.join(', ') + '? Their open connections are closed and their links stop working until enabled; nothing is deleted.', 'Disable')) return;
    try {
      for (const i of p.inbounds) await this.api('PATCH', sbUserPath(i, p.name), { disabled: off });
      this.toast('User ' + p.name + (off ? ' disabled' : ' enabled'));
      await this.loadSb(true);
      await this.sbFollow((off ? 'Disable ' : 'Enable ') + p.name);
    } catch (e) { this.toast(e.message, 'bad'); await this.loadSb(true); }
  },

  async sbDeleteUser(p) {
    if (!await this.ask('Delete user', 'Delete "' + p.name + '" from ' + p.inbounds.join(', ') + '? Their links and subscription stop working for good.', 'Delete')) return;
    try {
      for (const i of p.inbounds) await this.api('DELETE', sbUserPath(i, p.name));
      this.toast('User ' + p.name + ' deleted');
      if (this.sb.sel === p.name) this.sbClosePerson();
      await this.loadSb(true);
      await this.sbFollow('Delete ' + p.name);
    } catch (e) { this.toast(e.message, 'bad'); await this.loadSb(true); }
  },

  /* ---- a person's page ---------------------------------------------- */

  async sbShowPerson(name) {
    this.sb.sel = name;
    await this.sbLoadPerson();
    this.$nextTick(() => { const el = document.getElementById('sb-person'); if (el) { el.scrollIntoView({ block: 'start' }); el.focus(); } });
  },

  sbClosePerson() {
    this.sb.sel = '';
    this.sb.links = [];
    this.sb.sub = '';
  },

  selPerson() {
    const p = this.sb.persons.find(x => x.name === this.sb.sel);
    return p ? this.sbPerson(p) : null;
  },

  /* Every link of the person, one per inbound, from the inbound's link file. */
  async sbLoadPerson() {
    const p = this.sb.persons.find(x => x.name === this.sb.sel);
    this.sb.linkError = '';
    this.sb.subError = '';
    if (!p) return;
    try {
      this.sb.links = await Promise.all(p.inbounds.map(async i => ({ inbound: i,
        link: String(await this.api('GET', sbUserPath(i, p.name) + '/link', undefined, { as: 'text' })).trim() })));
    } catch (e) { this.sb.links = []; this.sb.linkError = e.message; }
    try {
      this.sb.sub = (await this.api('GET', '/singbox/users/' + encodeURIComponent(p.name) + '/subscription')).url;
    } catch (e) { this.sb.sub = ''; this.sb.subError = e.message; }
  },

  sbInboundOf(name) {
    return this.sb.inbounds.find(i => i.name === name) || { type: '' };
  },

  /* The QR of a link: the server's SVG. */
  sbShowQr(inbound) {
    const name = this.sb.sel, t = name + ' · ' + inbound;
    return this.showQrOf('sb', 'Scan: ' + t, 'QR code of ' + t, (this.sb.links.find(l => l.inbound === inbound) || {}).link || '',
      sbUserPath(inbound, name) + '/qr.svg');
  },

  /* The subscription URL as a QR code (GET .../subscription/qr.svg). */
  sbShowSubQr() {
    const t = this.sb.sel + ' · subscription';
    return this.showQrOf('sb', 'Scan: ' + t, 'QR code of ' + t, this.sb.sub,
      '/singbox/users/' + encodeURIComponent(this.sb.sel) + '/subscription/qr.svg');
  },

  async sbRotate() {
    const name = this.sb.sel;
    if (!await this.ask('Rotate subscription', 'Make a new subscription URL for "' + name + '"? The current URL stops working at once: their apps must import the new one.', 'Rotate')) return;
    try {
      this.sb.sub = (await this.api('POST', '/singbox/users/' + encodeURIComponent(name) + '/subscription/rotate')).url;
      this.toast('New subscription URL for ' + name);
    } catch (e) { this.toast(e.message, 'bad'); }
  },

  sbDownloadProfile(name = this.sb.sel) {
    return this.download('/singbox/users/' + encodeURIComponent(name) + '/profile', fileName(name, 'singbox', '.json'));
  },

  /* ---- the plan view ------------------------------------------------ */

  /* A sing-box plan action that changes users without a reload. */
  sbLive(a) {
    return a && a.engine === 'singbox' && /\(live\b|live, no reload/.test(String(a.text || ''));
  },

  /* A sing-box reload or stop: "drops N connection(s)", even when N is 0. */
  sbReloadDrops(a) {
    if (!a || a.engine !== 'singbox' || !/^[~-]? ?singbox (reload|stop)/.test(String(a.text || ''))) return '';
    const n = dropsCount(a.drops);
    return 'drops ' + n + ' connection' + (n === 1 ? '' : 's');
  },
};

atlasMixin(() => ({ sb: atlasSingboxState(), ...atlasSingboxMethods }), { singbox: 'loadSb' });
atlasList('singbox', 'sbList');
