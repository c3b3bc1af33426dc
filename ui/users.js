/*
 * users.js - usage and the user's page of the Atlas panel, one mixin with
 * its state under `usage` and `person`:
 * - usage (GET /usage): per engine and user the traffic of the quota
 *   period against the quota (a bar), the expiry date, the state with the
 *   reason of a suspension, and a reset (POST /usage/NAME/reset, confirmed);
 * - #/user/NAME: one person, the same name across engines, on one page:
 *   WireGuard peers of every interface, the OpenVPN client, the sing-box
 *   links, live status and traffic, and a 30-day chart per entry (inline
 *   SVG: one bar per day, no script or markup from data).
 */
'use strict';

const CHART_W = 300, CHART_H = 60;

atlasMixin(() => ({
  usage: { by: {}, error: '', days: 0, at: 0 },
  person: { name: '', peers: [], client: null, sb: null, links: [], sub: '', error: '', loading: false },

  /* Loads /usage?days=N into usage.by["ENGINE/USER"]; days 0 for the lists;
   * with person, only that name's entries (the user's page). */
  async loadUsage(days = 0, person = '') {
    try {
      const u = await this.api('GET', '/usage?days=' + days + (person ? '&user=' + encodeURIComponent(person) : ''));
      const by = {};
      for (const e of u.users || []) by[e.engine + '/' + e.user] = e;
      this.usage.by = by;
      this.usage.days = days;
      this.usage.error = '';
    } catch (e) { if (e.status !== 401) this.usage.error = e.message; }
  },

  usageOf(engine, user) { return this.usage.by[engine + '/' + user] || null; },

  usageState(engine, user) {
    const u = this.usage.by[engine + '/' + user];
    return u ? u.state : '';
  },

  /* The usage bar: {pct (0-100 for the bar), text, cls} or null without a quota. */
  usageBar(u) {
    if (!u) return null;
    const used = fmtBytes(u.period_bytes || 0);
    if (!u.quota) return { pct: 0, text: used + ' · no quota', cls: 'bg-sky-500', quota: false };
    const pct = Math.min(100, Math.max(0, Number(u.percent) || 0));
    return { pct, text: used + ' of ' + (u.quota_text || fmtBytes(u.quota)) + ' (' + Math.round(Number(u.percent) || 0) + ' %)',
             cls: pct >= 100 ? 'bg-red-600' : pct >= 90 ? 'bg-amber-500' : 'bg-emerald-500', quota: true };
  },

  /* A 30-day chart as one SVG path (a bar per day with traffic) in a
   * CHART_W x CHART_H box; '' without days. (One path: Alpine cannot
   * repeat a <template> inside an <svg>.) */
  usageChartPath(u) {
    const days = this.usageDays(u);
    if (!days.length) return '';
    const tot = days.map(d => d.bytes);
    const max = Math.max(...tot, 1), w = CHART_W / days.length, bw = Math.max(1, w - 1);
    return tot.map((t, i) => {
      if (!t) return '';
      const h = Math.max(1, (t / max) * (CHART_H - 2));
      return 'M' + (i * w + 0.5).toFixed(1) + ' ' + (CHART_H - h).toFixed(1) + 'h' + bw.toFixed(1) + 'v' + h.toFixed(1) + 'h-' + bw.toFixed(1) + 'z';
    }).join('') || 'M0 0';
  },

  usageChartLabel(u) {
    const days = this.usageDays(u);
    const sum = days.reduce((n, d) => n + d.bytes, 0);
    return days.length + ' days: ' + fmtBytes(sum);
  },

  /* The daily series over the days asked for, ending today (UTC): the
   * server lists only the days with traffic. [{day, bytes}] */
  usageDays(u) {
    if (!u || !u.daily) return [];
    const by = {};
    for (const d of u.daily) by[d.day] = (d.rx_bytes || 0) + (d.tx_bytes || 0);
    const n = Math.max(this.usage.days, 1), out = [];
    for (let i = n - 1; i >= 0; i--) {
      const day = todayUTC(this.now - i * 86400000);
      out.push({ day, bytes: by[day] || 0 });
    }
    return out;
  },

  /* Starts the user's quota period at 0 on every engine (a suspended user comes back). */
  async resetUsage(name) {
    if (!await this.ask('Reset usage', 'Start the quota period of "' + name + '" at 0 on every engine? A user suspended for the quota comes back at once.', 'Reset')) return;
    try {
      const r = await this.api('POST', '/usage/' + encodeURIComponent(name) + '/reset');
      this.toast('Usage of ' + name + ' reset (' + r.reset + ' entr' + (r.reset === 1 ? 'y' : 'ies') + ')');
      await (this.view === 'user' ? this.loadUsage(30, name) : this.loadUsage(0));
    } catch (e) { this.toast(e.message, 'bad'); }
  },

  /* The link of a user's page. */
  userHref(name) { return '#/user/' + encodeURIComponent(name); },

  /* ---- the user's page ----------------------------------------------- */

  async loadPerson() {
    const name = this.viewArg || '';
    const P = this.person;
    if (P.name !== name) Object.assign(P, { name, peers: [], client: null, sb: null, links: [], sub: '' });
    P.error = '';
    P.loading = true;
    const none = e => { if (e.status === 404) return null; throw e; };
    try {
      const [ifaces, client, persons] = await Promise.all([
        this.api('GET', '/wireguard/interfaces'),
        this.api('GET', '/openvpn/clients/' + encodeURIComponent(name)).catch(none),
        this.api('GET', '/singbox/users'), this.loadUsage(30, name)]);
      const peers = [];
      await Promise.all(ifaces.map(async i => {
        const p = await this.api('GET', wgPath(i.name, name)).catch(none);
        if (p) peers.push({ ...p, iface: i.name });
      }));
      peers.sort((a, b) => a.iface < b.iface ? -1 : 1);
      const sb = persons.find(p => p.name === name) || null;
      let links = [], sub = '';
      if (sb) {
        links = await Promise.all(sb.inbounds.map(async i => ({ inbound: i,
          user: await this.api('GET', sbUserPath(i, name)),
          link: String(await this.api('GET', sbUserPath(i, name) + '/link', undefined, { as: 'text' }).catch(() => '')).trim() })));
        sub = (await this.api('GET', '/singbox/users/' + encodeURIComponent(name) + '/subscription').catch(() => ({ url: '' }))).url;
      }
      Object.assign(P, { peers, client, sb, links, sub });
    } catch (e) {
      if (e.status !== 401) P.error = e.message;
    } finally {
      P.loading = false;
    }
  },

  /* The usage entries of the person, one per engine entry. */
  personUsage() {
    const P = this.person, out = [];
    for (const p of P.peers) out.push({ key: 'wg/' + p.iface, label: 'WireGuard ' + p.iface, u: this.usageOf('wireguard', p.iface + '/' + P.name) });
    if (P.client) out.push({ key: 'ovpn', label: 'OpenVPN', u: this.usageOf('openvpn', P.name) });
    if (P.sb) out.push({ key: 'sb', label: 'sing-box', u: this.usageOf('singbox', P.name) });
    return out;
  },

  /* Everything the person has: nothing at all is a page that says so. */
  personEmpty() {
    const P = this.person;
    return !P.loading && !P.error && !P.peers.length && !P.client && !P.sb;
  },

  /* [text, class] of a usage entry's state: suspended with its reason. */
  usageBadge(u) {
    if (!u) return ['no usage yet', 'badge-off'];
    if (u.state === 'suspended') return ['suspended', 'badge-bad'];
    if (u.state === 'expired') return ['expired', 'badge-off'];
    if (u.state === 'disabled') return ['disabled', 'badge-off'];
    return ['active', 'badge-ok'];
  },

  /* The person's status in one word, across engines. */
  personStatus() {
    const P = this.person;
    const wg = P.peers.some(p => p.status && p.status.latest_handshake && this.now / 1000 - p.status.latest_handshake < 180);
    const ov = P.client && P.client.status && P.client.status.connected;
    const sb = P.links.some(l => l.user && l.user.status && l.user.status.connections > 0);
    if (wg || ov || sb) return ['connected', 'badge-ok'];
    if (this.personUsage().some(e => e.u && e.u.state === 'suspended')) return ['suspended', 'badge-bad'];
    return ['offline', 'badge-off'];
  },

  personCopyPeer(p) { return this.copyPeer(p, p.iface); },
  personDownloadPeer(p) { return this.downloadPeer(p, p.iface); },
  personQrPeer(p) { return this.showQr(p, p.iface); },
}), { user: 'loadPerson' });
