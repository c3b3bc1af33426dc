/*
 * overview.js - the Dashboard of the Atlas panel, one mixin with its state
 * under `dash`: generation and apply mode, host load and memory, Atlas'
 * own memory, one card per engine, the warnings of the plan (users who
 * expire within 7 days or are above 90 % of their quota), live traffic per
 * user (a sparkline of the rates the SSE `traffic` events give) and the
 * last apply run.
 */
'use strict';

const HISTORY_POINTS = 40;
const TRAFFIC_TOP = 20;
/* key "wg/IF/PEER" or "ovpn/NAME" -> {name, engine, rx, tx, rates:[...], t} */
const TRAFFIC = new Map();

function fmtUptime(s) {
  s = Number(s) || 0;
  if (s < 3600) return Math.floor(s / 60) + ' min';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor(s % 86400 / 3600) + ' h';
}

atlasMixin(() => ({
  dash: { warnings: [] },
  trafficTop: [],       /* the busiest users: {key, name, engine, rx, tx, rates} */

  async loadDashboard() {
    await this.loadStatus();
    try { this.dash.warnings = (await this.api('GET', '/plan')).warnings || []; } catch (e) { /* a convenience */ }
  },

  /* "alice" out of a warning about a user ("wireguard/wg0 peer alice: ...",
   * "openvpn client bob: ...", "singbox[/edge] user carol: ..."), for the link
   * to the user's page; '' for any other warning (an engine's, a setting's). */
  warningUser(w) {
    const m = /^(?:wireguard\/\S+ peer|openvpn client|singbox(?:\/\S+)? user) ([a-z0-9][a-z0-9_.-]*):/.exec(String(w));
    return m ? m[1] : '';
  },

  /* The dashboard's "Before the cut": the warnings about users only. */
  userWarnings() {
    return this.dash.warnings.filter((w) => this.warningUser(w));
  },

  /* The rates are kept outside the reactive state (thousands of users each
   * tick); the view gets the TRAFFIC_TOP busiest users that moved bytes. */
  onTraffic(t) {
    const seen = new Set(), now = Date.now() / 1000;
    const add = (key, name, engine, rx, tx) => {
      seen.add(key);
      const e = TRAFFIC.get(key) || { key, name, engine, rx, tx, rates: [], t: 0 };
      if (e.t && now > e.t) {
        const r = Math.max(0, (rx - e.rx) + (tx - e.tx)) / (now - e.t);
        e.rates = e.rates.concat([r]).slice(-HISTORY_POINTS);
      }
      e.rx = rx; e.tx = tx; e.t = now;
      TRAFFIC.set(key, e);
    };
    for (const p of (t && t.wireguard) || [])
      add('wg/' + p.interface + '/' + p.peer, p.peer, 'WireGuard ' + p.interface, p.rx_bytes || 0, p.tx_bytes || 0);
    for (const c of (t && t.openvpn) || [])
      add('ovpn/' + c.client, c.client, 'OpenVPN', c.bytes_received || 0, c.bytes_sent || 0);
    for (const k of [...TRAFFIC.keys()]) if (!seen.has(k)) TRAFFIC.delete(k);
    this.trafficTop = [...TRAFFIC.values()].filter(e => e.rx + e.tx > 0)
      .sort((a, b) => (b.rx + b.tx) - (a.rx + a.tx)).slice(0, TRAFFIC_TOP)
      .map(e => ({ key: e.key, name: e.name, engine: e.engine, rx: e.rx, tx: e.tx, rates: e.rates }));
  },

  trafficRows() { return this.trafficTop; },

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

  engineBadge(e) {
    if (!e.managed) return ['not managed', 'badge-off'];
    if (!e.enabled) return ['disabled', 'badge-off'];
    if (e.key === 'wireguard' && !e.interfaces) return ['no interface', 'badge-off'];
    return e.running ? ['running', 'badge-ok'] : ['stopped', 'badge-bad'];
  },

  /* A dashboard engine card links to its view while there is nothing to run. */
  engineNeedsSetup(e) {
    if (e.key === 'openvpn') return !e.managed;
    if (e.key === 'wireguard') return !e.managed || !e.interfaces;
    return false;
  },

  memUsed() {
    const h = this.status && this.status.host;
    if (!h || !h.mem_total) return null;
    return { used: h.mem_total - h.mem_available, total: h.mem_total,
             pct: Math.round(100 * (h.mem_total - h.mem_available) / h.mem_total) };
  },

  fmtUptime,
}), { dashboard: 'loadDashboard' });
