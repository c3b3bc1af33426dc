/*
 * openvpn.js - the OpenVPN view of the Atlas panel, one mixin with its own
 * state tree under `ovpn`: the server section (set up when absent, edit,
 * enable/disable, restart on purpose, the runs that started, stopped or
 * restarted the daemon) and the clients as a table that scales (lists.js),
 * with bulk actions through POST /openvpn/clients:bulk (one generation),
 * profile download (NAME.ovpn) and copy, disable and revoke.
 *
 * Same rules as core.js: requests through this.api(), user text through
 * x-text only, destructive actions confirmed with this.ask().
 */
'use strict';

function ovpnPath(name) { return '/openvpn/clients/' + encodeURIComponent(name); }

atlasMixin(() => ({
  ovpn: { server: null, clients: [], error: '', missing: false, list: listState(),
          form: {}, formError: '', runs: [], busy: '',
          setup: { network: '10.9.0.0/24', port: 1194, proto: 'udp', dns: '' }, setupBusy: false, setupError: '',
          edit: {}, editError: '' },

  async loadOvpn(quiet) {
    if (!quiet) { this.ovpn.error = ''; this.loadHost(); this.loadUsage(0); }
    try {
      /* 404: no openvpn section yet; the view offers to set it up. */
      const [server, clients] = await Promise.all([
        this.api('GET', '/openvpn').catch(e => { if (e.status === 404) return null; throw e; }),
        this.api('GET', '/openvpn/clients')]);
      this.ovpn.server = server;
      this.ovpn.missing = server === null;
      this.ovpn.clients = clients;
      if (server && !quiet) this.loadOvpnRuns();
    } catch (e) {
      if (!quiet && e.status !== 401) this.ovpn.error = e.message;
    }
  },

  /* connected, disabled, expired, suspended or idle. */
  clientStatus(c) {
    if (c.disabled) return 'disabled';
    if (this.datePassed(c.expires)) return 'expired';
    if (this.usageState('openvpn', c.name) === 'suspended') return 'suspended';
    return c.status && c.status.connected ? 'connected' : 'idle';
  },

  clientBadge(c) {
    const s = this.clientStatus(c);
    return s === 'idle' ? ['offline', 'badge-off'] : this.statusBadge(s);
  },

  ovpnList() {
    return {
      st: this.ovpn.list, items: this.ovpn.clients, label: 'client', key: c => c.name,
      text: c => c.name + ' ' + (c.note || '') + ' ' + (c.static_ip || '') + ' ' + ((c.status && c.status.virtual_address) || ''),
      status: c => this.clientStatus(c),
      seen: c => c.status && c.status.connected ? c.status.connected_since : 0,
      traffic: c => c.status ? (c.status.bytes_received || 0) + (c.status.bytes_sent || 0) : 0,
      bulk: async (action, names) => {
        await this.api('POST', '/openvpn/clients:bulk', { action, names });
        await this.loadOvpn(true);
      },
    };
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

  async toggleClient(c) {
    if (!c.disabled && !await this.ask('Disable client', 'Disable client "' + c.name + '"? It is refused at its next connection' + (c.status && c.status.connected ? ' and its current session is dropped' : '') + '.', 'Disable')) return;
    await this.edit('PATCH', ovpnPath(c.name), { disabled: !c.disabled },
      'Client ' + c.name + (c.disabled ? ' enabled' : ' disabled'), () => this.loadOvpn());
  },

  async revokeClient(c) {
    if (!await this.ask('Revoke client', 'Revoke the certificate of "' + c.name + '"? This cannot be undone: the client needs a new profile to connect again.', 'Revoke')) return;
    await this.edit('DELETE', ovpnPath(c.name), undefined, 'Client ' + c.name + ' revoked', () => this.loadOvpn());
  },

  /* 404 for a listed client: its certificate is issued by the next apply. */
  ovpnNotYet(c, e) {
    if (e.status !== 404 || !c.name) return false;
    this.toast('The profile of ' + c.name + ' is ready once the change is applied: ' +
      (this.autoApply() ? 'wait for the apply to finish, then download it again.' : 'press Apply in the Plan view first.'), 'bad');
    return true;
  },

  downloadClient(c) {
    return this.download(ovpnPath(c.name) + '/config', fileName(c.name, '.ovpn'), e => this.ovpnNotYet(c, e));
  },

  async copyClient(c) {
    try {
      await this.copy(String(await this.api('GET', ovpnPath(c.name) + '/config', undefined, { as: 'text' })), 'Profile of ' + c.name);
    } catch (e) { if (!this.ovpnNotYet(c, e)) this.toast(e.message, 'bad'); }
  },

  /* ---- the server ---------------------------------------------------- */

  /* The OpenVPN daemon's badge: a change not applied yet is not a failure. */
  ovpnDaemonBadge() {
    const on = this.ovpn.server && this.ovpn.server.enabled;
    const st = this.status || {};
    if (this.engStatus('openvpn').running) return on ? ['daemon running', 'badge-ok'] : ['daemon running until applied', 'badge-warn'];
    if (on && (st.applied_generation || 0) < (st.generation || 0)) return ['daemon starts when applied', 'badge-warn'];
    return on ? ['daemon stopped', 'badge-bad'] : ['daemon stopped', 'badge-off'];
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
      this.ovpn.runs = (h.runs || []).filter(r => r.trigger === 'restart openvpn' ||
        (r.actions || []).some(a => /openvpn (server|restart)/.test(a.text))).slice(0, 4);
    } catch (e) { /* the list is a convenience */ }
  },

  /* What a run did to the daemon, in a line. */
  ovpnRunText(r) {
    return (r.actions || []).filter(a => /openvpn (server|restart)/.test(a.text))
      .map(a => this.engActionText(a.text)).join('; ') || r.error || '';
  },

  /* PATCH /openvpn, then the apply run's result and the daemon's runs. */
  async ovpnChange(body, label, toast, stored) {
    await this.api('PATCH', '/openvpn', body);
    if (stored) stored();
    this.toast(toast);
    await this.loadOvpn();
    await this.followRun('openvpn', label);
    await this.loadOvpnRuns();
  },

  async setupOvpn() {
    const f = this.ovpn.setup;
    const body = { network: String(f.network).trim(), port: Number(f.port), proto: f.proto };
    if (splitList(f.dns).length) body.dns = splitList(f.dns);
    this.ovpn.setupError = '';
    this.ovpn.setupBusy = true;
    try {
      await this.ovpnChange(body, 'Set up OpenVPN', 'OpenVPN set up');
    } catch (e) {
      this.ovpn.setupError = e.message;
    } finally {
      this.ovpn.setupBusy = false;
    }
  },

  openOvpnEdit() {
    const s = this.ovpn.server;
    this.ovpn.editError = '';
    this.ovpn.edit = { network: s.network, port: s.port, proto: s.proto,
                       dns: (s.dns || []).join(', '), routes: (s.routes || []).join(', ') };
    this.openDlg('ovpnDlg');
  },

  async saveOvpnEdit() {
    const s = this.ovpn.server, f = this.ovpn.edit, body = {};
    if (String(f.network).trim() !== s.network) body.network = String(f.network).trim();
    if (Number(f.port) !== s.port) body.port = Number(f.port);
    if (f.proto !== s.proto) body.proto = f.proto;
    const dns = splitList(f.dns), routes = splitList(f.routes);
    if (dns.join() !== (s.dns || []).join()) body.dns = dns;
    if (routes.join() !== (s.routes || []).join()) body.routes = routes;
    this.ovpn.editError = '';
    if (Object.keys(body).length === 0) { this.$refs.ovpnDlg.close(); this.toast('Nothing changed'); return; }
    try {
      await this.ovpnChange(body, 'Edit server', 'OpenVPN server settings saved', () => this.$refs.ovpnDlg.close());
    } catch (e) { this.ovpn.editError = e.message; }
  },

  async toggleOvpn() {
    const on = !this.ovpn.server.enabled;
    const ok = on
      ? await this.ask('Enable OpenVPN', 'Start the OpenVPN daemon? Clients connect again with the profiles they have.' + this.engWhen(), 'Enable', false)
      : await this.ask('Disable OpenVPN', 'Stop the OpenVPN daemon? ' + this.ovpnDropText() + ' Clients, certificates and settings are kept: enable it to start it again.' + this.engWhen(), 'Disable');
    if (!ok) return;
    this.ovpn.busy = 'toggle';
    try {
      await this.ovpnChange({ enabled: on }, on ? 'Enable' : 'Disable', on ? 'OpenVPN enabled' : 'OpenVPN disabled');
    } catch (e) {
      this.toast(e.message, 'bad');
    } finally {
      this.ovpn.busy = '';
    }
  },

  /* Restarts the daemon on purpose; the server records it as a run. */
  async restartOvpn() {
    if (!await this.ask('Restart OpenVPN', 'Restart the OpenVPN daemon now? ' + this.ovpnDropText(), 'Restart')) return;
    this.ovpn.busy = 'restart';
    const at = Date.now() / 1000;
    try {
      const r = await this.api('POST', '/openvpn/restart');
      this.results.openvpn = { label: 'Restart', ok: !!r.ok, error: r.error || '', actions: r.actions || [], at };
      this.toast(r.ok ? 'OpenVPN restarted' : 'Restart failed: ' + (r.error || 'see the result'), r.ok ? 'ok' : 'bad');
    } catch (e) {
      this.results.openvpn = { label: 'Restart', ok: false, error: e.message, actions: [], at };
    } finally {
      this.ovpn.busy = '';
    }
    await this.loadStatus();
    await this.loadOvpn(true);
    await this.loadOvpnRuns();
  },
}), { openvpn: 'loadOvpn' });
atlasList('openvpn', 'ovpnList');
