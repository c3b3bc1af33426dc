/*
 * wireguard.js - the WireGuard view of the Atlas panel, one mixin with its
 * own state tree under `wg`: interfaces (create, edit, enable/disable,
 * delete) and their peers as a table that scales (lists.js): search, sort,
 * filters, pages, bulk actions through POST .../peers:bulk (one generation),
 * and per peer QR code, config download (NAME-IF.conf) and copy, edit,
 * disable, delete.
 *
 * Same rules as core.js: requests through this.api(), user text through
 * x-text only, destructive actions confirmed with this.ask().
 */
'use strict';

function wgPath(iface, name) {
  const p = '/wireguard/interfaces/' + encodeURIComponent(iface);
  return name === undefined ? p : p + '/peers/' + encodeURIComponent(name);
}

atlasMixin(() => ({
  wg: { ifaces: [], iface: '', peers: [], error: '', seq: 0, list: listState(),
        form: {}, formOrig: null, formError: '', editing: null, ifForm: {}, ifFormError: '',
        ifEdit: {}, ifEditError: '' },

  async loadWg(quiet) {
    if (!quiet) { this.wg.error = ''; this.loadHost(); this.loadUsage(0); }
    try {
      this.wg.ifaces = await this.api('GET', '/wireguard/interfaces');
      if (!this.wg.ifaces.some(i => i.name === this.wg.iface))
        this.wg.iface = this.wg.ifaces.length ? this.wg.ifaces[0].name : '';
      await this.loadPeers(quiet);
    } catch (e) {
      if (!quiet && e.status !== 401) this.wg.error = e.message;
    }
  },

  async loadPeers(quiet) {
    if (!this.wg.iface) { this.wg.peers = []; return; }
    /* answers may cross: only the newest request's list is shown */
    const seq = ++this.wg.seq;
    try {
      const peers = await this.api('GET', wgPath(this.wg.iface) + '/peers');
      if (seq === this.wg.seq) this.wg.peers = peers;
    } catch (e) {
      if (!quiet && e.status !== 401) this.wg.error = e.message;
    }
  },

  /* The live status lags an apply by up to a tick: a peer applied since still
   * reads "not applied"; read the list again once the state is applied. */
  onStatus() {
    const st = this.status;
    if (this.view === 'wireguard' && st.applied_generation >= st.generation &&
        this.wg.peers.some(p => this.peerStatus(p) === 'notapplied')) this.loadPeers(true);
  },

  pickIface(name) {
    this.wg.iface = name;
    this.selClear(this.wgList());
    this.loadPeers();
  },

  currentIface() {
    return this.wg.ifaces.find(i => i.name === this.wg.iface) || null;
  },

  peerPath(p) { return wgPath(this.wg.iface, p.name); },

  /* connected, disabled, expired, suspended, idle, never or notapplied. */
  peerStatus(p) {
    const st = p.status || {};
    if (p.disabled) return 'disabled';
    if (this.datePassed(p.expires)) return 'expired';
    if (this.usageState('wireguard', this.wg.iface + '/' + p.name) === 'suspended') return 'suspended';
    if (st.latest_handshake && (this.now / 1000 - st.latest_handshake) < 180) return 'connected';
    if (st.on_interface) return st.latest_handshake ? 'idle' : 'never';
    return 'notapplied';
  },

  /* The usage bar of a peer (users.js), or null. */
  peerUsage(p) { return this.usageBar(this.usageOf('wireguard', this.wg.iface + '/' + p.name)); },

  peerReason(p) { return (this.usageOf('wireguard', this.wg.iface + '/' + p.name) || {}).reason || ''; },

  /* The list definition of the peers of the interface shown (lists.js). */
  wgList() {
    return {
      st: this.wg.list, items: this.wg.peers, label: 'peer', key: p => p.name,
      text: p => p.name + ' ' + (p.note || '') + ' ' + (p.address || []).join(' '),
      status: p => this.peerStatus(p),
      seen: p => p.status ? p.status.latest_handshake : 0,
      traffic: p => p.status ? (p.status.rx_bytes || 0) + (p.status.tx_bytes || 0) : 0,
      bulk: async (action, names) => {
        await this.api('POST', wgPath(this.wg.iface) + '/peers:bulk', { action, names });
        await this.loadWg(true);
        await this.followRun('wireguard', action[0].toUpperCase() + action.slice(1) + ' ' + plural(names.length, 'peer'));
      },
    };
  },

  openPeerForm(p) {
    this.wg.formError = '';
    this.wg.editing = p ? p.name : null;
    this.wg.form = p ? {
      name: p.name, note: p.note || '', address: (p.address || []).join(', '),
      allowed_ips: (p.allowed_ips || []).join(', '), keepalive: p.keepalive || 0,
      expires: p.expires || '', disabled: !!p.disabled,
    } : { name: '', note: '', address: '', allowed_ips: '', keepalive: 0, expires: '', disabled: false };
    /* what the dialog opened with: an edit sends only what was changed in it */
    this.wg.formOrig = p ? { ...this.wg.form } : null;
    this.openDlg('peerDlg');
  },

  async savePeer() {
    const f = this.wg.form, ed = this.wg.editing;
    const body = { note: f.note, keepalive: Number(f.keepalive) || 0, disabled: !!f.disabled };
    /* an emptied field clears the stored value of an edited peer */
    for (const [k, v] of [['address', splitList(f.address)], ['allowed_ips', splitList(f.allowed_ips)]])
      if (v.length || ed) body[k] = v;
    if (f.expires || ed) body.expires = f.expires || null;
    /* an edit sends only the fields changed in the dialog: another admin's edit
     * of the others, made meanwhile, is not overwritten with what it showed */
    const orig = ed && this.wg.formOrig;
    if (orig) for (const k of Object.keys(body)) if (String(f[k]) === String(orig[k])) delete body[k];
    if (orig && !Object.keys(body).length) { this.$refs.peerDlg.close(); return; }
    this.wg.formError = '';
    try {
      if (ed) {
        await this.api('PATCH', this.peerPath({ name: ed }), body);
        this.toast('Peer ' + ed + ' saved');
      } else {
        body.name = f.name = slugName(f.name, true);
        await this.api('POST', wgPath(this.wg.iface) + '/peers', body);
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
    await this.edit('PATCH', this.peerPath(p), { disabled: !p.disabled },
      'Peer ' + p.name + (p.disabled ? ' enabled' : ' disabled'), () => this.loadPeers());
  },

  async deletePeer(p) {
    if (!await this.ask('Delete peer', 'Delete peer "' + p.name + '" and its keys? Its config stops working for good.', 'Delete')) return;
    await this.edit('DELETE', this.peerPath(p), undefined, 'Peer ' + p.name + ' deleted', () => this.loadWg());
  },

  /* NAME-IF.conf: the name says whose and which interface. */
  downloadPeer(p, iface = this.wg.iface) {
    return this.download(wgPath(iface, p.name) + '/config', fileName(p.name, iface, '.conf'));
  },

  copyPeer(p, iface = this.wg.iface) {
    return this.copyFile(wgPath(iface, p.name) + '/config', 'Config of ' + p.name);
  },

  showQr(p, iface = this.wg.iface) {
    return this.showQrOf('wg', 'Scan with the WireGuard app: ' + p.name, 'QR code of the config of ' + p.name, '',
      wgPath(iface, p.name) + '/qr.svg');
  },

  /* ---- interfaces ---------------------------------------------------- */

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

  /* An interface edit, then the apply run's result in the card. */
  async ifaceChange(method, i, body, label, toast) {
    try {
      await this.api(method, wgPath(i.name), body);
      this.toast(toast);
      await this.loadWg();
      await this.followRun('wireguard', label);
      return true;
    } catch (e) { this.toast(e.message, 'bad'); return false; }
  },

  async toggleIface(i) {
    if (!i.disabled && !await this.ask('Disable interface', 'Disable interface "' + i.name + '"? The interface goes down and all its peers are disconnected.' + this.engWhen(), 'Disable')) return;
    await this.ifaceChange('PATCH', i, { disabled: !i.disabled }, (i.disabled ? 'Enable ' : 'Disable ') + i.name,
      'Interface ' + i.name + (i.disabled ? ' enabled' : ' disabled'));
  },

  async deleteIface(i) {
    if (!await this.ask('Delete interface', 'Delete interface "' + i.name + '"? It is removed from the server with all its ' + plural(i.peers, 'peer') + ': every one of them is disconnected and their keys are lost for good.' + this.engWhen(), 'Delete')) return;
    await this.ifaceChange('DELETE', i, undefined, 'Delete ' + i.name, 'Interface ' + i.name + ' deleted');
  },

  openIfaceEdit(i) {
    this.wg.ifEditError = '';
    this.wg.ifEdit = { name: i.name, listen_port: i.listen_port, address: (i.address || []).join(', '),
                       dns: (i.dns || []).join(', '), mtu: i.mtu || '', orig: i };
    this.openDlg('ifEditDlg');
  },

  /* (Not named ifEdit...: Alpine runs an expression that starts with
   * "if" and has parentheses as a statement, so its value is lost.) */
  wgPortChanged() {
    const f = this.wg.ifEdit;
    return !!f.orig && Number(f.listen_port) !== f.orig.listen_port;
  },

  /* PATCHes only what changed: an untouched field stays as stored. */
  async saveIfaceEdit() {
    const f = this.wg.ifEdit, o = f.orig, body = {};
    if (Number(f.listen_port) !== o.listen_port) body.listen_port = Number(f.listen_port);
    const addr = splitList(f.address), dns = splitList(f.dns);
    if (addr.join() !== (o.address || []).join()) body.address = addr;
    if (dns.join() !== (o.dns || []).join()) body.dns = dns;
    const mtu = String(f.mtu).trim() === '' ? 0 : Number(f.mtu);
    if (mtu !== (o.mtu || 0)) body.mtu = mtu;
    this.wg.ifEditError = '';
    if (Object.keys(body).length === 0) { this.$refs.ifEditDlg.close(); this.toast('Nothing changed'); return; }
    try {
      await this.api('PATCH', wgPath(f.name), body);
      this.$refs.ifEditDlg.close();
      this.toast('Interface ' + f.name + ' saved');
      await this.loadWg();
      await this.followRun('wireguard', 'Edit ' + f.name);
    } catch (e) { this.wg.ifEditError = e.message; }
  },
}), { wireguard: 'loadWg' });
atlasList('wireguard', 'wgList');
