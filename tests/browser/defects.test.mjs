/*
 * defects.test.mjs - what a new user ran into in the panel (issue 15), in a
 * real chromium against a real `atlas serve` that applies for real (inside
 * the namespace tests/run-browser.sh makes):
 *   - statuses: a peer that never connected is a neutral "never connected",
 *     an expired one "expired", a past expiry date is warned about in the
 *     form, OpenVPN enabled but not applied yet is not a red "daemon
 *     stopped", a "waiting for Apply" card ends when an apply ran (item 6);
 *   - wording: a profile asked for before the apply tells the panel user to
 *     press Apply (no command), the plan lists no record file and spells the
 *     engine one way (item 7);
 *   - names: "Alice Phone" typed becomes alice-phone, the rule is shown
 *     (item 11);
 *   - accessibility: dialogs open with the focus on their first field, every
 *     Disable button names its peer or client, a new view starts at its top
 *     with its heading focused and without the old toasts, toasts never
 *     catch clicks (item 12);
 *   - history: a generation shows its own change, the restore dialog what
 *     the restore changes by engine with counts and the apply mode kept
 *     (items 4, 5);
 *   - a session that ends (the password changed by another session) closes
 *     every open dialog: the login form is on top and usable.
 * Names: interface atu15, ports 18150-18152. Screenshots: defects-*.png.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startAtlas, launch, shot, closeModals, finish, go, openDialog, waitFor } from './harness.mjs';

const PORT = 18150;
const IFACE = 'atu15';
const SEED = `version: 1
settings:
  host: 127.0.0.1
wireguard:
  interfaces:
    - name: ${IFACE}
      listen_port: 18151
      address: [10.77.0.1/24]
      peers:
        - name: nova
        - name: old
          expires: 2020-01-01
openvpn:
  port: 18152
  network: 10.78.0.0/24
  clients:
    - name: dana
`;

let atlas, browser, page;
const pageErrors = [];

/* The API as the signed-in page calls it (its token). */
async function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const token = sessionStorage.getItem('atlas.token') || Alpine.$data(document.body).token;
    const r = await fetch("/api/v1" + p, { method: m, headers: { Authorization: 'Bearer ' + token,
      ...(b ? { 'Content-Type': 'application/json' } : {}) }, body: b ? JSON.stringify(b) : undefined });
    const t = await r.text();
    if (!r.ok) throw new Error(m + ' ' + p + ': ' + r.status + ' ' + t);
    return t ? JSON.parse(t) : null;
  }, [method, path, body]);
}

async function applied() {
  const s = await api('GET', '/status');
  return s.applied_generation >= s.generation && !s.pending;
}

describe('issue 15: statuses, wording, names, accessibility, history', { timeout: 240000 }, () => {
  before(async () => {
    atlas = await startAtlas({ port: PORT, yaml: SEED, iface: IFACE });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(20000);
    page.on('pageerror', e => pageErrors.push(String(e)));
    await page.goto(atlas.base + '/', { waitUntil: 'networkidle' });
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    await waitFor('the seed applied', applied);
  });

  beforeEach(() => closeModals(page));
  after(() => finish(browser, atlas, 'atlas-serve-defects.log'));

  it('item 6: a peer never connected is neutral, an expired one says so', async () => {
    await go(page, 'wireguard');
    const nova = page.locator('[data-peer="nova"] .badge').first();
    await waitFor('nova on its interface', async () => (await nova.textContent()) !== 'not applied');
    assert.equal(await nova.textContent(), 'never connected');
    assert.match(await nova.getAttribute('class'), /badge-off/);
    assert.doesNotMatch(await nova.getAttribute('class'), /badge-warn/);
    assert.equal(await page.locator('[data-peer="old"] .badge').first().textContent(), 'expired');
    await shot(page, 'defects-peer-status');
  });

  it('items 11, 12, 6: the add dialog focuses the name, turns a display name into a name, warns of a past date', async () => {
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Add peer' }).click();
    await openDialog(page).waitFor();
    await waitFor('focus in the dialog', () => page.evaluate(() => document.activeElement && document.activeElement.id === 'peer-name'));
    await page.keyboard.type('Alice Phone');
    assert.equal(await page.locator('#peer-name').inputValue(), 'alice-phone');
    assert.match(await page.locator('#peer-name-help').textContent(), /Lowercase letters, digits, _ \. -.*alice-phone/);
    /* accented Latin letters lose their marks, not the letter ("ümlaut" became "mlaut") */
    await page.locator('#peer-name').fill('');
    await page.keyboard.type('Ümlaut Straße 😀');
    await page.locator('#peer-name').blur();
    assert.equal(await page.locator('#peer-name').inputValue(), 'umlaut-strasse-');
    await page.locator('#peer-name').fill('');
    assert.equal(await page.getByTestId('peer-exp-warn').isVisible(), false);
    await page.locator('#peer-exp').fill('2021-03-04');
    await page.getByTestId('peer-exp-warn').waitFor({ state: 'visible' });
    await page.locator('#peer-exp').fill('2999-01-01');
    await page.getByTestId('peer-exp-warn').waitFor({ state: 'hidden' });
    await shot(page, 'defects-add-peer');
    await page.keyboard.press('Escape');
  });

  it('item 12: Disable buttons name their resource; a new view starts at its heading, without old toasts', async () => {
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Disable nova', exact: true }).waitFor();
    await page.evaluate(() => { document.body.style.minHeight = '5000px'; window.scrollTo(0, 3000); });
    await page.evaluate(() => Alpine.$data(document.body).toast('a toast of the WireGuard view'));
    const t = page.getByText('a toast of the WireGuard view');
    await t.waitFor();
    assert.equal(await t.evaluate(el => getComputedStyle(el).pointerEvents), 'none', 'a toast lets clicks through');
    await go(page, 'openvpn');
    await page.getByRole('button', { name: 'Disable dana', exact: true }).waitFor();
    assert.equal(await t.count(), 0, 'the toast of the last view is gone');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the new view starts at its top');
    await waitFor('the heading focused', () => page.evaluate(() =>
      document.activeElement && document.activeElement.tagName === 'H1' && document.activeElement.textContent === 'OpenVPN'));
    await page.evaluate(() => { document.body.style.minHeight = ''; });
  });

  it('items 6, 7: manual apply mode: profile wording, daemon badge, plan lines, result card', async () => {
    await api('PATCH', '/openvpn', { enabled: false });
    await waitFor('openvpn disabled and applied', applied);
    await api('PATCH', '/settings', { auto_apply: false });
    await api('PATCH', '/openvpn', { enabled: true });
    await api('POST', '/openvpn/clients', { name: 'erin' });
    await go(page, 'openvpn');
    await page.locator('[data-client="erin"]').waitFor();
    const daemon = page.getByTestId('ovpn-daemon');
    await waitFor('the daemon badge', async () => /applied/.test(await daemon.textContent()));
    assert.equal(await daemon.textContent(), 'daemon starts when applied');
    assert.doesNotMatch(await daemon.getAttribute('class'), /badge-bad/);
    await page.locator('[data-client="erin"]').getByRole('button', { name: 'Download .ovpn of erin' }).click();
    const toast = page.locator('[role="status"]', { hasText: 'erin' }).last();
    await toast.waitFor();
    const text = await toast.textContent();
    assert.match(text, /press Apply in the Plan view/);
    assert.doesNotMatch(text, /atlas apply|`/);
    await shot(page, 'defects-ovpn-manual');

    await api('POST', `/wireguard/interfaces/${IFACE}/peers`, { name: 'zed' });
    await go(page, 'plan');
    const wgPlan = page.locator('[data-plan-engine="wireguard"]');
    await wgPlan.getByText(`wireguard/${IFACE} peer zed`, { exact: false }).waitFor();
    assert.equal(await wgPlan.locator('h2').textContent(), 'WireGuard');
    assert.doesNotMatch(await wgPlan.innerText(), /write .*\.conf|record /, 'no record file in the plan');
    assert.equal(await page.locator('[data-plan-engine="openvpn"] h2').textContent(), 'OpenVPN');

    /* a panel edit in manual mode waits for Apply; an apply ends the wait */
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Edit interface ' + IFACE }).click();
    await openDialog(page).waitFor();
    await waitFor('focus on the first field', () => page.evaluate(() =>
      document.activeElement && document.activeElement.closest('dialog[open]') && document.activeElement.tagName === 'INPUT'));
    await page.locator('#ife-dns').fill('1.1.1.1');
    await openDialog(page).locator('button[type="submit"]').click();
    const card = page.getByTestId('wg-result');
    await card.getByText('waiting for Apply').waitFor();
    await api('POST', '/apply');
    await card.getByText('waiting for Apply').waitFor({ state: 'hidden' });
    assert.match(await card.innerText(), /applied/);
  });

  it('items 4, 5: a generation shows its own change; the restore dialog says what changes and keeps the apply mode', async () => {
    await go(page, 'history');
    const latest = page.locator('[data-gen]').first();
    await latest.getByRole('button', { name: /What generation \d+ changed/ }).click();
    await page.getByTestId('gen-diff-title').getByText(/against generation \d+/).waitFor();
    assert.match(await page.getByTestId('gen-changes').textContent(), /wireguard:.*\n.*interface atu15: dns/);
    await page.locator('[data-gen="1"]').getByRole('button', { name: 'Restore generation 1' }).click();
    const box = page.getByTestId('restore-dialog');
    await box.waitFor({ state: 'visible' });
    assert.match(await page.getByTestId('restore-count').textContent(), /^This restore changes \d+ things?:$/);
    const wg = box.locator('[data-restore-engine="wireguard"]');
    assert.match(await wg.innerText(), /WireGuard: .*1 removed/);
    assert.match(await wg.innerText(), /- peer atu15\/zed/);
    assert.match(await box.locator('[data-restore-engine="openvpn"]').innerText(), /- client erin/);
    assert.match(await page.getByTestId('restore-kept').innerText(), /auto_apply false → true/);
    await shot(page, 'defects-restore');
    await page.getByTestId('restore-ok').click();
    await box.waitFor({ state: 'hidden' });
    const st = await api('GET', '/status');
    assert.equal(st.auto_apply, false, 'the restore kept manual apply');
    const h = await api('GET', '/history');
    assert.match(h.generations[0].summary, /^restore generation 1: /);
  });

  /* The password changed by another session: the panel's token is void, its
   * live stream ends, and it shows the login by itself. */
  async function passwordChangedElsewhere(cur, next) {
    const login = await fetch(atlas.base + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: cur }) }).then(r => r.json());
    const r = await fetch(atlas.base + '/api/v1/auth/password', { method: 'POST',
      headers: { Authorization: 'Bearer ' + login.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ current_password: cur, new_password: next }) });
    assert.equal(r.status, 204, 'password change');
  }

  /* The login form is usable: no dialog open, the password field is what a
   * click on it hits, the reason is shown; signing in again works. */
  async function loginUsable(pass) {
    await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
    await page.getByTestId('login-error').getByText('Your session has ended').waitFor();
    assert.equal(await openDialog(page).count(), 0, 'no dialog open over the login form');
    const hit = await page.evaluate(() => {
      const f = document.getElementById('login-pass'), b = f.getBoundingClientRect();
      const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
      return at === f ? 'login-pass' : at ? at.tagName + (at.id ? '#' + at.id : '') : 'nothing';
    });
    assert.equal(hit, 'login-pass', 'a click on the password field reaches it');
    await page.locator('#login-pass').fill(pass, { timeout: 5000 });
    await page.getByRole('button', { name: 'Sign in' }).click({ timeout: 5000 });
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
  }

  it('a session that ends closes every dialog: the login form is on top and usable', async () => {
    /* the Add peer dialog open, half filled in */
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Add peer' }).click();
    await openDialog(page).waitFor();
    await page.locator('#peer-name').fill('half-done');
    await passwordChangedElsewhere(atlas.password, 'defects-pass-2');
    await loginUsable('defects-pass-2');
    await shot(page, 'defects-session-ended');
    /* a confirmation open: it closes as "no", nothing is done */
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Disable nova', exact: true }).click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible' });
    await passwordChangedElsewhere('defects-pass-2', 'defects-pass-3');
    await loginUsable('defects-pass-3');
    const peers = await api('GET', `/wireguard/interfaces/${IFACE}/peers`);
    assert.equal(!!peers.find(p => p.name === 'nova').disabled, false, 'nova not disabled');
    assert.equal(peers.some(p => p.name === 'half-done'), false, 'the half-filled peer not added');
  });

  it('raised no page error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
