/*
 * tokens.test.mjs - the Settings view's API tokens and two-factor login:
 * create a token (shown once, it works with its scope and no further),
 * revoke it (confirmed; it stops working); set up TOTP from the QR's URI
 * (the code is computed here from the secret, RFC 6238), sign out, and
 * sign in again with the password and then the code the form asks for.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startAtlas, launch, shot, finish, go, waitFor, confirmDialog } from './harness.mjs';

const PORT = 18160;

let atlas, browser, page;

/* RFC 4648 base32 to bytes. */
function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, acc = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '')) {
    acc = (acc << 5) | abc.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((acc >> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

/* The 6-digit TOTP code (SHA-1, 30 s) of secret, `offset` steps from now. */
function totp(secret, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function apiCode(method, path, token) {
  const r = await fetch(atlas.base + '/api/v1' + path, {
    method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: method === 'GET' ? undefined : '{}',
  });
  return r.status;
}

async function signIn(password) {
  await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
  await page.locator('#login-pass').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('Settings: API tokens and two-factor login', { timeout: 180000 }, () => {
  before(async () => {
    atlas = await startAtlas({ port: PORT });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(20000);
    await page.goto(atlas.base + '/');
    await signIn(atlas.password);
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
  });
  after(async () => {
    if (browser) {
      assert.deepEqual(browser.violations, [], 'no CSP violation');
      assert.deepEqual(browser.blocked, [], 'no request to elsewhere');
    }
    await finish(browser, atlas, 'tokens-server.log');
  });

  let token;

  it('creates a token, shows it once, and it works with its scope only', async () => {
    await go(page, 'settings');
    await page.getByTestId('tok-name').fill('ci-bot');
    await page.getByTestId('tok-scope').selectOption('operator');
    await page.getByTestId('tok-expires').fill('30d');
    await page.getByTestId('tok-create').click();
    await page.getByTestId('tok-created').waitFor({ state: 'visible' });
    token = (await page.getByTestId('tok-secret').innerText()).trim();
    assert.match(token, /^atlas_[A-Za-z0-9_-]{43}$/);
    const row = page.locator('[data-token="ci-bot"]');
    await row.waitFor({ state: 'visible' });
    assert.match(await row.innerText(), /operator/);
    await shot(page, 'tokens-created');
    assert.equal(await apiCode('GET', '/status', token), 200);
    assert.equal(await apiCode('GET', '/tokens', token), 403, 'operator may not list tokens');
    assert.equal(await apiCode('PATCH', '/settings', token), 403, 'operator may not change settings');
    /* once: after Done and a reload of the view the secret is nowhere on the page */
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('tok-created').waitFor({ state: 'hidden' });
    await go(page, 'dashboard');
    await go(page, 'settings');
    await row.waitFor({ state: 'visible' });
    assert.ok(!(await page.content()).includes(token.slice(6)), 'the token is shown again');
  });

  it('an expired token says so in the list (it looked like a live one)', async () => {
    const r = await fetch(atlas.base + '/api/v1/tokens', {
      method: 'POST', headers: { Authorization: 'Bearer ' + await page.evaluate(() => sessionStorage.getItem('atlas.token')), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'old-bot', scope: 'read', expires: '1d' }),
    });
    assert.equal(r.status, 201);
    execFileSync('sqlite3', [join(atlas.data, 'atlas.db'),
      "UPDATE api_tokens SET expires_at = strftime('%s','now') - 60 WHERE name = 'old-bot'"]);
    await go(page, 'dashboard');
    await go(page, 'settings');
    const row = page.locator('[data-token="old-bot"]');
    await row.waitFor({ state: 'visible' });
    assert.match(await row.innerText(), /expired .*\(refused; revoke it to remove it\)/);
    assert.doesNotMatch(await page.locator('[data-token="ci-bot"]').innerText(), /expired/);
    await page.getByRole('button', { name: 'Revoke token old-bot' }).click();
    await confirmDialog(page, /Revoke API token "old-bot"/);
    await row.waitFor({ state: 'detached' });
  });

  it('revokes the token after a confirmation; it stops working', async () => {
    await page.getByRole('button', { name: 'Revoke token ci-bot' }).click();
    await confirmDialog(page, /Revoke API token "ci-bot"/);
    await page.locator('[data-token="ci-bot"]').waitFor({ state: 'detached' });
    assert.equal(await apiCode('GET', '/status', token), 401);
  });

  it('sets up two-factor login and signs in with a code', async () => {
    await page.getByTestId('totp-enroll').click();
    await page.getByTestId('totp-qr').waitFor({ state: 'visible' });
    const uri = (await page.getByTestId('totp-uri').innerText()).trim();
    const m = uri.match(/^otpauth:\/\/totp\/Atlas:admin\?secret=([A-Z2-7]+)&/);
    assert.ok(m, 'otpauth URI: ' + uri);
    const secret = m[1];
    await shot(page, 'totp-enroll');
    await page.getByTestId('totp-code').fill(totp(secret));
    await page.getByTestId('totp-confirm').click();
    const rec = page.getByTestId('totp-recovery');
    await rec.waitFor({ state: 'visible' });
    assert.equal(await rec.locator('li').count(), 10);
    await page.getByTestId('totp-qr').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    /* the password alone is not enough now: the form asks for the code */
    await signIn(atlas.password);
    await page.getByTestId('login-totp').waitFor({ state: 'visible' });
    await waitFor('the code prompt', async () => /authenticator/.test(await page.getByTestId('login-error').innerText()));
    await shot(page, 'totp-login-code');
    /* the confirmation used this step's code: the next step's is the fresh one */
    await page.getByTestId('login-totp').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
  });
});
