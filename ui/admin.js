/*
 * admin.js - the Plan, History and Settings views of the Atlas panel, one
 * mixin with its state trees under `plan`, `hist`, `restore` and
 * `settings`: what an apply will change (and whom it disconnects), the
 * generations and their restore, the password, the apply mode, YAML export
 * and import with a diff preview. (API tokens and TOTP: settings.js.)
 */
'use strict';

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

atlasMixin(() => ({
  plan: { data: null, error: '', applying: false, result: null, runs: [] },
  hist: { data: null, error: '', sel: null, detail: null, mode: 'own' },
  restore: { gen: 0, preview: null, kept: [], withSettings: false, error: '' },
  settings: { pw: { current: '', next: '', again: '' }, pwMsg: '', pwError: '',
              yaml: '', fileName: '', preview: null, importError: '', importErrors: [],
              importMsg: '', modeError: '' },

  /* The Plan view's result card of an earlier apply goes when a later one ran. */
  onApplied(run) {
    if (this.plan.result && run.generation > (this.plan.result.generation || 0)) this.plan.result = null;
  },

  async loadSettings() { if (this.loadSettingsExtra) await this.loadSettingsExtra(); },

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
      'This apply restarts ' + plural(imp.restarts, 'daemon') + ' and drops ' + plural(imp.drops, 'session') + '. Apply now?', 'Apply')) return;
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

  async changePassword() {
    const s = this.settings;
    s.pwMsg = ''; s.pwError = '';
    if (s.pw.next !== s.pw.again) { s.pwError = 'The two new passwords differ.'; return; }
    try {
      await this.api('POST', '/auth/password', { current_password: s.pw.current, new_password: s.pw.next }, { noLogout: true });
      /* Older tokens stop working: sign in again with the new password. */
      const r = await this.api('POST', '/auth/login', { username: this.login.username || 'admin', password: s.pw.next }, { noLogout: true });
      this.setToken(r);
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

  actionMark, actionText, diffLines, dropsCount,
}), { plan: 'loadPlan', history: 'loadHistory', settings: 'loadSettings' });
