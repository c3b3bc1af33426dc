/*
 * engines.js - engine setup and service control in the Atlas panel, mixed
 * into the `atlas` component of app.js: the OpenVPN server section (set up
 * when absent, edit, enable/disable, restart on purpose, the runs that
 * started, stopped or restarted the daemon) and the WireGuard interface
 * editor; plus the dashboard's "Set up" links.
 *
 * Same rules as app.js: requests through this.api(), user text through
 * x-text only, destructive actions confirmed with this.ask(). Each action
 * shows its result: the apply run that reached the new generation
 * (followRun), or the answer of POST /openvpn/restart.
 */
'use strict';

/* The component state under `eng`. */
function atlasEngineState() {
  return { ovpnMissing: false, setupBusy: false, setupError: '',
           setup: { network: '10.9.0.0/24', port: 1194, proto: 'udp', dns: '' },
           edit: {}, editError: '', busy: '', ovpnResult: null, ovpnRuns: [],
           ifEdit: {}, ifEditError: '', wgResult: null,
           host: '', hostLoaded: false, hostForm: '', hostError: '' };
}

/* Methods of the component (`this` is the Alpine component). */
const atlasEngineMethods = {
  /* After an edit of desired state: waits (up to 20 s) for the apply run
   * that reaches the new generation and keeps it in eng[slot] for the view,
   * as {label, ok, error, actions, pending}; ok is null while waiting, and
   * stays null with pending set in manual apply mode (nothing is applied
   * until Apply in the Plan view). An edit that needs no change on the
   * system may be marked applied without a run: that is ok, no action. */
  async followRun(slot, label) {
    const res = { label, ok: null, pending: false, error: '', actions: [], at: Date.now() / 1000 };
    let out = null;
    this.eng[slot] = res;
    try {
      const gen = (await this.api('GET', '/status')).generation;
      for (let i = 0; i < 40 && !out; i++) {
        const st = await this.api('GET', '/status');
        this.status = st;
        const h = await this.api('GET', '/history');
        const run = (h.runs || []).find(r => r.generation >= gen && !/^restart /.test(r.trigger));
        if (run)
          out = { ...res, ok: !!run.ok, error: run.error || '', actions: run.actions || [], at: run.finished_at || run.started_at };
        else if (st.auto_apply === false && st.applied_generation < gen)
          out = { ...res, pending: true };
        else if (!st.pending && st.applied_generation >= gen)
          out = { ...res, ok: true };
        else
          await new Promise(r => setTimeout(r, 500));
      }
      if (!out) out = { ...res, error: 'not applied yet: see the Plan view' };
    } catch (e) {
      if (e.status !== 401) out = { ...res, ok: false, error: e.message };
    }
    if (out) this.eng[slot] = out;
    await this.loadStatus();
    if (this.view === 'openvpn') await this.loadOvpn(true);
    if (this.view === 'wireguard') await this.loadWg();
  },

  /* The badge of a result: [text, class]. */
  engResultBadge(r, okText) {
    if (!r || (r.ok === null && !r.pending)) return ['applying…', 'badge-warn'];
    if (r.pending) return ['waiting for Apply', 'badge-warn'];
    return r.ok ? [okText, 'badge-ok'] : ['failed', 'badge-bad'];
  },

  /* The end of a confirmation in manual apply mode; '' in automatic mode. */
  engWhen() {
    return this.status && this.status.auto_apply === false
      ? ' Manual apply mode: this takes effect when you press Apply in the Plan view.' : '';
  },

  /* settings.host: the address client configs name. Loaded with the views. */
  async loadHost() {
    try {
      const s = await this.api('GET', '/settings');
      this.eng.host = s.host || '';
      this.eng.hostLoaded = true;
      /* A guess for the form: the name this page was loaded from, unless local. */
      const here = location.hostname;
      if (!this.eng.hostForm && !/^(localhost|127\.|\[?::1\]?$)/.test(here)) this.eng.hostForm = here;
    } catch (e) { /* the hint is a convenience */ }
  },

  async saveHost() {
    this.eng.hostError = '';
    try {
      const s = await this.api('PATCH', '/settings', { host: String(this.eng.hostForm).trim() });
      this.eng.host = s.host || '';
      this.toast('Server address set: ' + this.eng.host);
    } catch (e) { this.eng.hostError = e.message; }
  },

  /* The engine's entry of /status, or {}. */
  engStatus(key) {
    return (this.status && this.status.engines && this.status.engines[key]) || {};
  },

  /* A dashboard engine card links to its view while there is nothing to run. */
  engineNeedsSetup(e) {
    if (e.key === 'openvpn') return !e.managed;
    if (e.key === 'wireguard') return !e.managed || !e.interfaces;
    return false;
  },

  openIfaceEdit(i) {
    this.eng.ifEditError = '';
    this.eng.ifEdit = { name: i.name, listen_port: i.listen_port, address: (i.address || []).join(', '),
                        dns: (i.dns || []).join(', '), mtu: i.mtu || '', orig: i };
    this.openDlg('ifEditDlg');
  },

  /* (Not named ifEdit...: Alpine runs an expression that starts with
   * "if" and has parentheses as a statement, so its value is lost.) */
  wgPortChanged() {
    const f = this.eng.ifEdit;
    return !!f.orig && Number(f.listen_port) !== f.orig.listen_port;
  },

  /* PATCHes only what changed: an untouched field stays as stored. */
  async saveIfaceEdit() {
    const f = this.eng.ifEdit, o = f.orig, body = {};
    if (Number(f.listen_port) !== o.listen_port) body.listen_port = Number(f.listen_port);
    const addr = splitList(f.address), dns = splitList(f.dns);
    if (addr.join() !== (o.address || []).join()) body.address = addr;
    if (dns.join() !== (o.dns || []).join()) body.dns = dns;
    const mtu = String(f.mtu).trim() === '' ? 0 : Number(f.mtu);
    if (mtu !== (o.mtu || 0)) body.mtu = mtu;
    this.eng.ifEditError = '';
    if (Object.keys(body).length === 0) { this.$refs.ifEditDlg.close(); this.toast('Nothing changed'); return; }
    try {
      await this.api('PATCH', '/wireguard/interfaces/' + encodeURIComponent(f.name), body);
      this.$refs.ifEditDlg.close();
      this.toast('Interface ' + f.name + ' saved');
      await this.loadWg();
      await this.followRun('wgResult', 'Edit ' + f.name);
    } catch (e) { this.eng.ifEditError = e.message; }
  },

  /* Connected OpenVPN clients: the live count, or the list's if larger. */
  ovpnConnected() {
    const listed = this.ovpn.clients.filter(c => c.status && c.status.connected).length;
    return Math.max(Number(this.engStatus('openvpn').connected) || 0, listed);
  },

  ovpnDropText() {
    const n = this.ovpnConnected();
    return n === 0 ? 'No client is connected now.'
      : n === 1 ? '1 connected client is disconnected (it reconnects by itself).'
      : n + ' connected clients are disconnected (they reconnect by themselves).';
  },

  /* Runs that started, stopped or restarted the OpenVPN daemon, newest first. */
  async loadOvpnRuns() {
    try {
      const h = await this.api('GET', '/history');
      this.eng.ovpnRuns = (h.runs || []).filter(r => r.trigger === 'restart openvpn' ||
        (r.actions || []).some(a => /openvpn (server|restart)/.test(a.text))).slice(0, 4);
    } catch (e) { /* the list is a convenience */ }
  },

  /* What a run did to the daemon, in a line. */
  ovpnRunText(r) {
    return (r.actions || []).filter(a => /openvpn (server|restart)/.test(a.text))
      .map(a => this.engActionText(a.text)).join('; ') || r.error || '';
  },

  /* A run action's text without its leading marker (+ ~ - or ! for a restart). */
  engActionText(t) {
    return String(t || '').replace(/^[+~!-] /, '');
  },

  async setupOvpn() {
    const f = this.eng.setup;
    const body = { network: String(f.network).trim(), port: Number(f.port), proto: f.proto };
    if (splitList(f.dns).length) body.dns = splitList(f.dns);
    this.eng.setupError = '';
    this.eng.setupBusy = true;
    try {
      await this.api('PATCH', '/openvpn', body);
      this.toast('OpenVPN set up');
      await this.loadOvpn();
      await this.followRun('ovpnResult', 'Set up OpenVPN');
      await this.loadOvpnRuns();
    } catch (e) {
      this.eng.setupError = e.message;
    } finally {
      this.eng.setupBusy = false;
    }
  },

  openOvpnEdit() {
    const s = this.ovpn.server;
    this.eng.editError = '';
    this.eng.edit = { network: s.network, port: s.port, proto: s.proto,
                      dns: (s.dns || []).join(', '), routes: (s.routes || []).join(', ') };
    this.openDlg('ovpnDlg');
  },

  async saveOvpnEdit() {
    const s = this.ovpn.server, f = this.eng.edit, body = {};
    if (String(f.network).trim() !== s.network) body.network = String(f.network).trim();
    if (Number(f.port) !== s.port) body.port = Number(f.port);
    if (f.proto !== s.proto) body.proto = f.proto;
    const dns = splitList(f.dns), routes = splitList(f.routes);
    if (dns.join() !== (s.dns || []).join()) body.dns = dns;
    if (routes.join() !== (s.routes || []).join()) body.routes = routes;
    this.eng.editError = '';
    if (Object.keys(body).length === 0) { this.$refs.ovpnDlg.close(); this.toast('Nothing changed'); return; }
    try {
      await this.api('PATCH', '/openvpn', body);
      this.$refs.ovpnDlg.close();
      this.toast('OpenVPN server settings saved');
      await this.loadOvpn();
      await this.followRun('ovpnResult', 'Edit server');
      await this.loadOvpnRuns();
    } catch (e) { this.eng.editError = e.message; }
  },

  async toggleOvpn() {
    const on = !this.ovpn.server.enabled;
    const ok = on
      ? await this.ask('Enable OpenVPN', 'Start the OpenVPN daemon? Clients connect again with the profiles they have.' + this.engWhen(), 'Enable', false)
      : await this.ask('Disable OpenVPN', 'Stop the OpenVPN daemon? ' + this.ovpnDropText() + ' Clients, certificates and settings are kept: enable it to start it again.' + this.engWhen(), 'Disable');
    if (!ok) return;
    this.eng.busy = 'toggle';
    try {
      await this.api('PATCH', '/openvpn', { enabled: on });
      this.toast(on ? 'OpenVPN enabled' : 'OpenVPN disabled');
      await this.loadOvpn();
      await this.followRun('ovpnResult', on ? 'Enable' : 'Disable');
      await this.loadOvpnRuns();
    } catch (e) {
      this.toast(e.message, 'bad');
    } finally {
      this.eng.busy = '';
    }
  },

  /* Restarts the daemon on purpose; the server records it as a run. */
  async restartOvpn() {
    if (!await this.ask('Restart OpenVPN', 'Restart the OpenVPN daemon now? ' + this.ovpnDropText(), 'Restart')) return;
    this.eng.busy = 'restart';
    const at = Date.now() / 1000;
    try {
      const r = await this.api('POST', '/openvpn/restart');
      this.eng.ovpnResult = { label: 'Restart', ok: !!r.ok, error: r.error || '', actions: r.actions || [], at };
      this.toast(r.ok ? 'OpenVPN restarted' : 'Restart failed: ' + (r.error || 'see the result'), r.ok ? 'ok' : 'bad');
    } catch (e) {
      this.eng.ovpnResult = { label: 'Restart', ok: false, error: e.message, actions: [], at };
    } finally {
      this.eng.busy = '';
    }
    await this.loadStatus();
    await this.loadOvpn(true);
    await this.loadOvpnRuns();
  }
};
