/*
 * settings.js - the API tokens and the two-factor login of the Settings
 * view, one mixin of the `atlas` component (app.js) with its state under
 * `tok`: list, create (the new token is shown once, with a copy button)
 * and revoke (confirmed) scoped API tokens; enrol the administrator's TOTP
 * (QR code and secret shown once, a first code confirms it, the recovery
 * codes shown once), see how many recovery codes are left, turn it off
 * with the password.
 *
 * Same rules as app.js: requests through this.api(), user text through
 * x-text only, destructive actions confirmed with this.ask().
 */
'use strict';

const TOKEN_SCOPES = [
  ['read', 'read: may only look (GET), client configs and their keys included'],
  ['operator', 'operator: also manages users and applies'],
  ['admin', 'admin: everything'],
];

function atlasSettingsState() {
  return {
    list: [], error: '',
    form: { name: '', scope: 'read', expires: '90d' }, formError: '',
    created: null,               /* {name, scope, token}: shown once */
    totp: null,                  /* {enabled, pending, recovery_codes_left} */
    enroll: null,                /* {secret, uri, qrUrl}: shown once */
    code: '', totpError: '', recovery: null, disablePw: '',
  };
}

const atlasSettingsMethods = {
  async loadSettingsExtra() {
    const t = this.tok;
    try {
      t.list = (await this.api('GET', '/tokens')).tokens;
      t.error = '';
    } catch (e) { t.error = e.message; }
    try { t.totp = await this.api('GET', '/auth/totp'); } catch (e) { t.totpError = e.message; }
  },

  tokenScopes() { return TOKEN_SCOPES; },

  tokenExpiry(k) { return k.expired ? 'expired ' + fmtTime(k.expires_at) + ' (refused; revoke it to remove it)' : k.expires_at ? fmtTime(k.expires_at) : 'never'; },

  async createToken() {
    const t = this.tok;
    t.formError = '';
    t.created = null;
    try {
      const body = { name: t.form.name.trim(), scope: t.form.scope };
      if (t.form.expires.trim()) body.expires = t.form.expires.trim();
      t.created = await this.api('POST', '/tokens', body);
      t.form.name = '';
      await this.loadSettingsExtra();
    } catch (e) { t.formError = e.message; }
  },

  async revokeToken(k) {
    if (!await this.ask('Revoke token', 'Revoke API token "' + k.name + '"? Every program using it is refused from now on.', 'Revoke')) return;
    try {
      await this.api('DELETE', '/tokens/' + encodeURIComponent(k.name));
      if (this.tok.created && this.tok.created.name === k.name) this.tok.created = null;
      this.toast('Token "' + k.name + '" revoked');
      await this.loadSettingsExtra();
    } catch (e) { this.tok.error = e.message; }
  },

  copyToken() { return this.sbCopy(this.tok.created.token, 'Token'); /* singbox.js */ },

  async totpEnroll() {
    const t = this.tok;
    t.totpError = '';
    t.recovery = null;
    try {
      const r = await this.api('POST', '/auth/totp/enroll');
      t.enroll = { secret: r.secret, uri: r.uri,
                   qrUrl: URL.createObjectURL(new Blob([r.qr_svg], { type: 'image/svg+xml' })) };
      t.code = '';
    } catch (e) { t.totpError = e.message; }
  },

  async totpConfirm() {
    const t = this.tok;
    t.totpError = '';
    try {
      const r = await this.api('POST', '/auth/totp/confirm', { code: t.code.replace(/\s/g, '') });
      if (t.enroll) URL.revokeObjectURL(t.enroll.qrUrl);
      t.enroll = null;
      t.recovery = r.recovery_codes;
      t.code = '';
      t.totp = await this.api('GET', '/auth/totp');
    } catch (e) { t.totpError = e.message; }
  },

  async totpDisable() {
    const t = this.tok;
    t.totpError = '';
    if (!await this.ask('Turn off two-factor login', 'Sign in with the password alone from now on? The recovery codes stop working.', 'Turn off')) return;
    try {
      await this.api('POST', '/auth/totp/disable', { password: t.disablePw });
      t.disablePw = '';
      t.recovery = null;
      t.totp = await this.api('GET', '/auth/totp');
      this.toast('Two-factor login is off');
    } catch (e) { t.totpError = e.message; }
  },
};
