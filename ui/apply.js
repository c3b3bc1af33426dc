/*
 * apply.js - what every engine view shares after an edit, one mixin of the
 * panel: the result card (the apply run that reached the new generation,
 * waited for through the SSE `apply` event), the wording of when a change
 * takes effect (automatic or manual apply), and the server address client
 * configs name (settings.host), asked for where it is missing.
 */
'use strict';

atlasMixin(() => ({
  /* the result card of the last edit per engine: {label, ok, pending, error, actions, at} */
  results: { wireguard: null, openvpn: null, singbox: null },
  /* settings.host: the address client configs name */
  host: { value: '', loaded: false, form: '', error: '' },

  /* ---- the result of an edit ----------------------------------------- */

  /*
   * After an edit of desired state: waits (up to 20 s) for the SSE `apply`
   * event of the run that reaches the new generation and keeps it in
   * results[engine] for the view, as {label, ok, error, actions, pending};
   * ok is null while waiting, and stays null with pending set in manual
   * apply mode (nothing is applied until Apply in the Plan view). An edit
   * that needs no change on the system may be marked applied without a
   * run (the status says so): that is ok, no action.
   */
  async followRun(engine, label) {
    const res = { label, ok: null, pending: false, error: '', actions: [], at: Date.now() / 1000 };
    this.results[engine] = res;
    let gen = 0, done;
    const found = new Promise(resolve => { done = resolve; });
    const check = run => {
      if (!gen) return false;
      if (run) {
        if (run.generation < gen || /^restart /.test(run.trigger)) return false;
        done({ ...res, ok: !!run.ok, error: run.error || '', actions: run.actions || [], at: run.finished_at || run.started_at });
        return true;
      }
      const st = this.status || {};
      if (st.auto_apply === false && st.applied_generation < gen) { done({ ...res, pending: true }); return true; }
      /* applied: the run's actions are in the history (its event may still come) */
      if (!st.pending && st.applied_generation >= gen) { done('history'); return true; }
      return false;
    };
    this.waiters.push(check);
    const timer = setTimeout(() => done(null), 20000);
    let out;
    try {
      const st = await this.api('GET', '/status');
      gen = st.generation;
      this.status = st;
      if (!this.runs.some(r => check(r))) check(null);
      out = await found;
      if (!out || out === 'history') {
        /* applied by the status, or no event in time (a reconnecting stream):
         * the history has the run; an edit applied without a run is ok */
        const h = await this.api('GET', '/history');
        const run = (h.runs || []).find(r => r.generation >= gen && !/^restart /.test(r.trigger));
        out = run ? { ...res, ok: !!run.ok, error: run.error || '', actions: run.actions || [], at: run.finished_at || run.started_at }
          : out ? { ...res, ok: true } : { ...res, error: 'not applied yet: see the Plan view' };
      }
    } catch (e) {
      out = e.status === 401 ? null : { ...res, ok: false, error: e.message };
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter(w => w !== check);
    }
    if (out) this.results[engine] = out;
    await this.loadStatus();
    await this.loadView(true);
  },

  /* The badge of a result: [text, class]. */
  resultBadge(r) {
    const okText = this.view === 'openvpn' ? 'ok' : 'applied';
    if (!r || (r.ok === null && !r.pending)) return ['applying…', 'badge-warn'];
    if (r.pending) return ['waiting for Apply', 'badge-warn'];
    return r.ok ? [okText, 'badge-ok'] : ['failed', 'badge-bad'];
  },

  /* The result card of the view shown (null: none). */
  viewResult() {
    return this.results[this.viewEngine()] || null;
  },

  /* A run action's text without its leading marker (+ ~ - or ! for a restart). */
  engActionText(t) {
    return String(t || '').replace(/^[+~!-] /, '');
  },

  /* settings.auto_apply as /status reports it (true until known). */
  autoApply() {
    return !this.status || this.status.auto_apply !== false;
  },

  /* The sentence a confirmation ends with: when does a change take effect. */
  whenApplied() {
    return this.autoApply() ? 'applied at once' : 'applied when you press Apply in the Plan view';
  },

  /* The end of a confirmation in manual apply mode; '' in automatic mode. */
  engWhen() {
    return this.autoApply() ? '' : ' Manual apply mode: this takes effect when you press Apply in the Plan view.';
  },

  /* ---- the server address (settings.host) ---------------------------- */

  async loadHost() {
    try {
      const s = await this.api('GET', '/settings');
      this.host.value = s.host || '';
      this.host.loaded = true;
      /* A guess for the form: the name this page was loaded from, unless local. */
      const here = location.hostname;
      if (!this.host.form && !/^(localhost|127\.|\[?::1\]?$)/.test(here)) this.host.form = here;
    } catch (e) { /* the hint is a convenience */ }
  },

  async saveHost() {
    this.host.error = '';
    try {
      const s = await this.api('PATCH', '/settings', { host: String(this.host.form).trim() });
      this.host.value = s.host || '';
      this.toast('Server address set: ' + this.host.value);
    } catch (e) { this.host.error = e.message; }
  },

  /* The server address form shows in an engine's view with something to configure. */
  hostMissing() {
    const e = this.viewEngine();
    if (!e || !this.host.loaded || this.host.value) return false;
    return e === 'wireguard' ? this.wg.ifaces.length > 0 : e === 'openvpn' ? !!this.ovpn.server : this.sb.inbounds.length > 0;
  },
}));
