/*
 * panel.test.mjs - the Atlas panel in a real chromium against a real
 * `atlas serve`: login, WireGuard peer lifecycle with QR code, manual apply
 * mode with the plan and apply, OpenVPN client add/revoke, YAML export and re-import with a diff
 * preview, restore of a generation, change of password, rate limiting, and
 * that user text stays text (XSS). The browser can reach nothing but the
 * Atlas server; screenshots of every view land in tests/artifacts/screenshots.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startAtlas, launch, shot, closeModals, finish, go, confirmDialog, noOverflow, loopRuns, waitLoopRun, ARTIFACTS, ROOT, CSP } from './harness.mjs';

const PORT = 18110;
const IFACE = 'atu0';
const CLIENT_IFACE = 'atu1'; /* a WireGuard client on loopback, for live status */
const XSS = '<img src=x onerror=alert(1)>';
/* the same without spaces: list fields split at spaces */
const XSS_NOSPACE = '<img/src=x/onerror=alert(1)>';
const SEED = `version: 1
settings:
  host: vpn.example.test
  resync: 3600
wireguard:
  interfaces:
    - name: ${IFACE}
      listen_port: 18111
      address: [10.251.7.1/24]
      peers:
        - name: alice
          note: the first peer
openvpn:
  port: 18112
  proto: udp
  network: 10.251.8.0/24
  clients:
    - name: bob
`;

let atlas, browser, page;
const dialogs = [];
const pageErrors = [];
const firstLoad = [];

const VIEWS = ['dashboard', 'wireguard', 'openvpn', 'plan', 'history', 'settings', 'user/alice'];

async function noImages() {
  await page.waitForTimeout(300); /* give an onerror handler the time to fire */
  return page.evaluate(() => document.querySelectorAll('img').length);
}

async function peerRow(name) {
  return page.locator(`[data-peer="${name}"]`);
}

describe('atlas panel in chromium', { timeout: 240000 }, () => {
  before(async () => {
    atlas = await startAtlas({ port: PORT, yaml: SEED, iface: [IFACE, CLIENT_IFACE] });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(20000);
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', e => pageErrors.push(String(e)));
    page.on('console', m => { if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) pageErrors.push(m.text()); });
    page.on('response', async r => {
      if (!firstLoad.active) return;
      const s = await r.request().sizes().catch(() => null);
      const h = await r.allHeaders();
      firstLoad.push({ url: r.url(), status: r.status(), encoding: h['content-encoding'] || '',
        type: h['content-type'] || '', nosniff: h['x-content-type-options'] || '',
        referrer: h['referrer-policy'] || '', etag: h['etag'] || '',
        body: s ? s.responseBodySize : 0, headers: s ? s.responseHeadersSize : 0 });
    });
  });

  /* A failed step must not leave a modal open over the next one. */
  beforeEach(() => closeModals(page));
  after(() => finish(browser, atlas, 'atlas-serve.log'));

  it('loads offline and shows the login; a wrong password is refused', async () => {
    firstLoad.active = true;
    const doc = await page.goto(atlas.base + '/', { waitUntil: 'networkidle' });
    firstLoad.active = false;
    /* The server's own security headers: the page runs under its CSP. */
    const dh = await doc.allHeaders();
    assert.equal(dh['content-security-policy'], CSP, 'the server sends the CSP with the HTML');
    assert.equal(dh['x-content-type-options'], 'nosniff');
    assert.equal(dh['referrer-policy'], 'no-referrer');
    const total = firstLoad.reduce((n, r) => n + r.body + r.headers, 0);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'first-load.json'), JSON.stringify({ total, responses: firstLoad }, null, 2));
    console.log(`# first load: ${firstLoad.length} responses, ${total} bytes transferred (bodies + headers, gzip)`);
    for (const r of firstLoad) console.log(`#   ${r.status} ${r.url} ${r.body} B ${r.encoding}`);
    /* Every file of the panel comes compressed, revalidatable and with nosniff. */
    const files = firstLoad.filter(r => !r.url.includes('/api/'));
    assert.ok(files.length >= 4, 'html, css, core.js, alpine: ' + files.map(r => r.url).join(' '));
    for (const r of files) {
      assert.equal(r.encoding, 'gzip', r.url + ' is sent gzip');
      assert.match(r.etag, /^"[0-9a-f]{20}-gz"$/, r.url + ' has an ETag');
      assert.equal(r.nosniff, 'nosniff', r.url);
      assert.equal(r.referrer, 'no-referrer', r.url);
    }

    await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'login-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('#login-pass').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await assert.doesNotReject(page.getByTestId('login-error').getByText('Wrong username or password').waitFor());
    await shot(page, 'login-error-desktop');
  });

  it('logs in and shows the live dashboard', async () => {
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    await page.locator('[data-engine="wireguard"]').waitFor();
    await page.locator('[data-engine="openvpn"]').waitFor();
    await page.getByText('live', { exact: true }).waitFor({ timeout: 10000 });
    const gen = await page.locator('[data-view="dashboard"]').innerText();
    assert.match(gen, /applied/);
    await shot(page, 'dashboard-desktop');
  });

  it('adds a WireGuard peer and shows its QR code', async () => {
    await go(page, 'wireguard');
    await (await peerRow('alice')).waitFor();
    await page.getByRole('button', { name: 'Add peer' }).click();
    await page.locator('#peer-name').fill('carol');
    await page.locator('#peer-note').fill('carol phone');
    await page.locator('#peer-name').press('Enter');
    const row = await peerRow('carol');
    await row.waitFor();
    assert.match(await row.innerText(), /carol phone/);
    await shot(page, 'wireguard-desktop');

    await row.getByRole('button', { name: 'QR code of carol' }).click();
    const img = page.getByTestId('qr-img');
    await img.waitFor();
    const info = await img.evaluate(i => new Promise(res => {
      const done = () => res({ src: i.src, w: i.naturalWidth });
      if (i.complete) done(); else i.onload = done;
    }));
    assert.match(info.src, /^blob:/);
    assert.ok(info.w > 0, 'the QR image decoded');
    await shot(page, 'wireguard-qr-desktop');
    await page.keyboard.press('Escape');
    await page.getByTestId('qr-dialog').waitFor({ state: 'hidden' });
    // Alpine removes the image on the dialog's close event, a tick after it hides.
    await page.getByTestId('qr-img').waitFor({ state: 'detached', timeout: 3000 });
    assert.equal(await page.getByTestId('qr-img').count(), 0, 'the QR image is gone once closed');

    const [dl] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download config of carol' }).click()]);
    assert.equal(dl.suggestedFilename(), 'carol-atu0.conf', 'the name carries the user and the interface');
    const conf = readFileSync(await dl.path(), 'utf8');
    assert.match(conf, /\[Interface\]/);
  });

  /* Manual apply mode (Settings): a peer added in the panel is stored but
   * not applied. The Plan view shows it as "+ ... peer erin" next to drift
   * made by hand (carol removed from the interface; resync is 3600 s anyway,
   * and manual mode never heals on its own); Apply puts both on the
   * interface and the plan is empty. Then back to automatic apply. */
  it('shows the pending plan, applies it and sees it applied', async () => {
    const wg = (...a) => spawnSync('wg', a, { encoding: 'utf8' });
    const onIface = key => wg('show', IFACE, 'peers').stdout.split('\n').includes(key);
    const keyOf = name => page.evaluate(async n => {
      const r = await fetch('/api/v1/wireguard/interfaces/atu0/peers/' + n,
        { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token') } });
      return (await r.json()).public_key;
    }, name);

    await go(page, 'wireguard');
    const carol = await peerRow('carol');
    await carol.locator('.badge', { hasText: /idle|connected/ }).waitFor({ timeout: 15000 });
    const carolKey = await keyOf('carol');
    assert.match(carolKey, /^[A-Za-z0-9+/]{43}=$/);

    await go(page, 'settings');
    const mode = page.getByTestId('apply-mode-settings');
    await mode.getByRole('button', { name: 'Switch to manual apply' }).click();
    await mode.getByRole('button', { name: 'Switch to automatic apply' }).waitFor();
    await shot(page, 'settings-manual-desktop');
    await go(page, 'dashboard');
    await page.getByTestId('apply-mode').getByText('manual apply').waitFor();

    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Add peer' }).click();
    await page.locator('#peer-name').fill('erin');
    const apiRuns = loopRuns(atlas, 'api');
    await page.locator('#peer-name').press('Enter');
    const erin = await peerRow('erin');
    await erin.locator('.badge', { hasText: 'not applied' }).waitFor();
    const erinKey = await keyOf('erin');
    await waitLoopRun(atlas, 'api', apiRuns); /* the loop ran after the edit: it would have applied by now */
    assert.ok(!onIface(erinKey), 'erin is not on the interface before Apply');
    assert.equal(wg('set', IFACE, 'peer', carolKey, 'remove').status, 0, 'wg set remove');
    assert.ok(!onIface(carolKey), 'carol is off the interface');

    await go(page, 'plan');
    await page.getByTestId('plan-mode').getByText('manual apply').waitFor();
    const wgGroup = page.locator('[data-plan-engine="wireguard"]');
    await wgGroup.getByText(/peer erin/).first().waitFor();
    await wgGroup.getByText(/peer carol/).first().waitFor();
    assert.match(await page.getByTestId('plan-summary').innerText(), /^2 changes to reach generation \d+\n0 daemon restarts\n0 dropped sessions$/);
    const planText = await wgGroup.innerText();
    assert.match(planText, /\+\s*wireguard\/atu0 peer erin/);
    assert.match(planText, /\+\s*wireguard\/atu0 peer carol/);
    await shot(page, 'plan-pending-desktop');
    assert.ok(!onIface(erinKey), 'still not applied while the plan is shown');

    await page.getByRole('button', { name: 'Apply' }).click();
    if (await page.getByTestId('confirm-dialog').isVisible()) await confirmDialog(page);
    const result = page.getByTestId('apply-result');
    await result.waitFor({ state: 'visible', timeout: 120000 });
    const text = await result.innerText();
    await shot(page, 'plan-applied-desktop');
    assert.match(text, /Apply result\s*ok/, 'apply result: ' + text);
    assert.match(text, /peer erin/);
    assert.match(text, /peer carol/);
    await page.getByTestId('plan-summary').getByText(/Nothing to do/).waitFor({ timeout: 10000 });
    assert.ok(onIface(erinKey), 'erin is on the interface');
    assert.ok(onIface(carolKey), 'carol is back on the interface');
    await go(page, 'wireguard');
    await erin.locator('.badge', { hasText: /idle|connected/ }).waitFor({ timeout: 15000 });

    await go(page, 'settings');
    await mode.getByRole('button', { name: 'Switch to automatic apply' }).click();
    /* Asked only while something is pending (it would apply at once). */
    if (await page.getByTestId('confirm-dialog').isVisible()) await confirmDialog(page, /applied at once/);
    await mode.getByRole('button', { name: 'Switch to manual apply' }).waitFor();
    await go(page, 'dashboard');
    await page.getByTestId('apply-mode').getByText('auto apply').waitFor();
    await page.getByText('in sync').waitFor({ timeout: 10000 });
  });

  it('edits, disables and deletes the peer, each after a confirmation', async () => {
    await go(page, 'wireguard');
    const row = await peerRow('carol');
    await row.getByRole('button', { name: 'Edit carol' }).click();
    await page.locator('#peer-note').fill('carol tablet');
    await page.locator('#peer-ka').fill('25');
    await page.getByRole('button', { name: 'Save' }).click();
    await row.getByText('carol tablet').waitFor();

    /* another admin's edit while this dialog is open is kept: the dialog
     * sends only what was changed in it (it sent every field it showed) */
    await row.getByRole('button', { name: 'Edit carol' }).click();
    const tok = await page.evaluate(() => sessionStorage.getItem('atlas.token'));
    const r = await fetch(atlas.base + '/api/v1/wireguard/interfaces/' + IFACE + '/peers/carol', {
      method: 'PATCH', headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json' },
      body: JSON.stringify({ note: 'set by another admin' }),
    });
    assert.equal(r.status, 200);
    await page.locator('#peer-ka').fill('30');
    await page.getByRole('button', { name: 'Save' }).click();
    await row.getByText('set by another admin').waitFor();
    const peer = await (await fetch(atlas.base + '/api/v1/wireguard/interfaces/' + IFACE + '/peers/carol',
      { headers: { Authorization: 'Bearer ' + tok } })).json();
    assert.equal(peer.note, 'set by another admin');
    assert.equal(peer.keepalive, 30);

    await row.getByRole('button', { name: 'Disable' }).click();
    await confirmDialog(page, /Disable peer "carol"/);
    await row.locator('.badge', { hasText: 'disabled' }).waitFor();

    await row.getByRole('button', { name: 'Delete carol' }).click();
    /* Escape cancels: the peer stays. */
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden' });
    assert.equal(await row.count(), 1);
    await row.getByRole('button', { name: 'Delete carol' }).click();
    await confirmDialog(page, /Delete peer "carol"/);
    await row.waitFor({ state: 'detached' });
  });

  it('adds and revokes an OpenVPN client; downloads a profile', async () => {
    await go(page, 'openvpn');
    await page.locator('[data-client="bob"]').waitFor();
    await page.getByRole('button', { name: 'Add client' }).click();
    await page.locator('#client-name').fill('dave');
    await page.locator('#client-note').fill('dave laptop');
    await page.locator('#client-name').press('Enter');
    const row = page.locator('[data-client="dave"]');
    await row.waitFor();
    assert.match(await row.innerText(), /dave laptop/);
    await shot(page, 'openvpn-desktop');

    const bob = page.locator('[data-client="bob"]');
    await bob.getByRole('button', { name: 'Disable' }).click();
    await confirmDialog(page, /Disable client "bob"/);
    await bob.locator('.badge', { hasText: 'disabled' }).waitFor();
    await bob.getByRole('button', { name: 'Enable' }).click();
    await bob.locator('.badge', { hasText: 'offline' }).waitFor();

    await row.getByRole('button', { name: 'Revoke dave' }).click();
    await confirmDialog(page, /Revoke the certificate of "dave"/);
    await row.waitFor({ state: 'detached' });

    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.locator('[data-client="bob"]').getByRole('button', { name: 'Download .ovpn of bob' }).click()]);
    assert.equal(dl.suggestedFilename(), 'bob.ovpn');
    assert.match(readFileSync(await dl.path(), 'utf8'), /^client/m);
  });

  it('keeps user text as text: a bad peer name and a peer note with HTML', async () => {
    await go(page, 'wireguard');
    await page.getByRole('button', { name: 'Add peer' }).click();
    /* the name field turns what is typed into a valid name: markup cannot stay in it */
    await page.locator('#peer-name').fill(XSS);
    assert.match(await page.locator('#peer-name').inputValue(), /^[a-z0-9][a-z0-9_.-]*$/);
    /* a field the server refuses quotes the user's text as literal text */
    await page.locator('#peer-name').fill('xss-addr');
    await page.locator('#peer-addr').fill(XSS_NOSPACE);
    await page.locator('#peer-name').press('Enter');
    const err = page.getByTestId('peer-error');
    await err.waitFor({ state: 'visible' });
    const msg = await err.textContent();
    assert.ok(msg.includes(XSS_NOSPACE), 'the error quotes the address as literal text: ' + msg);
    assert.equal(await noImages(), 0, 'no <img> element was created');
    await shot(page, 'xss-name-desktop');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Add peer' }).click();
    await page.locator('#peer-name').fill('xss-note');
    await page.locator('#peer-note').fill(XSS);
    await page.locator('#peer-name').press('Enter');
    const note = (await peerRow('xss-note')).getByTestId('peer-note');
    await note.waitFor();
    assert.equal(await note.textContent(), XSS);
    assert.equal(await noImages(), 0, 'no <img> element was created');
    assert.deepEqual(dialogs, [], 'no JavaScript dialog fired');
  });

  it('wraps a 63-character peer name on a phone instead of cutting it off', async () => {
    const name = 'a'.repeat(63); /* no dash: nowhere a browser breaks by itself */
    const tok = await page.evaluate(() => sessionStorage.getItem('atlas.token'));
    const r = await fetch(atlas.base + '/api/v1/wireguard/interfaces/' + IFACE + '/peers', {
      method: 'POST', headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    assert.equal(r.status, 201);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await go(page, 'wireguard');
      const link = (await peerRow(name)).getByRole('link', { name: 'Page of ' + name });
      await link.waitFor();
      const box = await link.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 390, 'the name fits the screen: ' + JSON.stringify(box));
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'no sideways scroll');
      await shot(page, 'long-name-phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('works from the keyboard: Enter opens a dialog, focus moves in, Escape closes it and returns focus', async () => {
    await go(page, 'wireguard');
    const add = page.locator('[data-view="wireguard"]').getByRole('button', { name: 'Add peer' });
    await add.focus();
    await page.keyboard.press('Enter');
    await page.locator('#peer-name').waitFor({ state: 'visible' });
    assert.ok(await page.evaluate(() => !!document.activeElement.closest('dialog[open]')), 'focus is inside the dialog');
    await page.keyboard.press('Escape');
    await page.locator('#peer-name').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Add peer', 'focus is back on the opener');
    /* Focus is visible: the focused button draws a ring (box-shadow). */
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
    assert.notEqual(ring, 'none', 'a focus ring is drawn');
  });

  it('renders no HTML from data: no x-html, no innerHTML in the panel sources', () => {
    const files = readdirSync(join(ROOT, 'ui')).filter(f => /\.(js|html)$/.test(f)).map(f => 'ui/' + f);
    assert.ok(files.length >= 8, 'the page and every module: ' + files.join(' '));
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      assert.doesNotMatch(text, /x-html|innerHTML|outerHTML|insertAdjacentHTML|document\.write/, f);
    }
  });

  it('exports YAML and re-imports it after a diff preview', async () => {
    await go(page, 'settings');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download atlas.yaml' }).click()]);
    assert.equal(dl.suggestedFilename(), 'atlas.yaml');
    const yaml = readFileSync(await dl.path(), 'utf8');
    assert.match(yaml, /version: 1/);
    assert.match(yaml, /xss-note/);
    assert.doesNotMatch(yaml, /private_key/);

    const changed = yaml.replace(/host: \S+/, 'host: vpn2.example.test');
    assert.notEqual(changed, yaml);
    await page.locator('#import-text').fill(changed);
    await page.getByRole('button', { name: 'Preview diff' }).click();
    const prev = page.getByTestId('import-preview');
    await prev.waitFor({ state: 'visible' });
    const diff = await prev.innerText();
    assert.match(diff, /\+\s*host: vpn2\.example\.test/);
    assert.match(diff, /-\s*host: vpn\.example\.test/);
    await shot(page, 'settings-import-preview-desktop');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await confirmDialog(page, /Replace the desired state/);
    await page.getByText(/Stored as generation \d+/).waitFor();
  });

  it('shows history with a diff and restores a previous generation', async () => {
    await go(page, 'history');
    const gens = page.locator('[data-gen]');
    await gens.first().waitFor();
    const n = await gens.count();
    assert.ok(n >= 4, 'several generations: ' + n);
    const first = await gens.first().getAttribute('data-gen');
    const oldest = gens.last();
    const oldGen = await oldest.getAttribute('data-gen');
    await oldest.getByRole('button', { name: /^Compare generation \d+ with the current state/ }).click();
    const box = page.locator('#gen-diff');
    await box.waitFor({ state: 'visible' });
    assert.match(await box.innerText(), /vpn2\.example\.test/);
    await shot(page, 'history-desktop');

    await oldest.getByRole('button', { name: /^Restore/ }).click();
    const rd = page.getByTestId('restore-dialog');
    await rd.waitFor({ state: 'visible' });
    assert.match(await rd.innerText(), new RegExp(`Restore generation ${oldGen}`));
    await page.getByTestId('restore-ok').click();
    await page.getByText(new RegExp(`Generation ${oldGen} restored as generation \\d+`)).waitFor();
    await page.locator(`[data-gen="${Number(first) + 1}"]`).waitFor();

    /* The restored state is the seed: no carol, no xss-note, host back. */
    await go(page, 'wireguard');
    await (await peerRow('alice')).waitFor();
    await (await peerRow('xss-note')).waitFor({ state: 'detached', timeout: 5000 });
  });

  /* alice's config (as the panel serves it) drives a wireguard-go client on
   * loopback with a 1 s keepalive: the handshake and the keepalives make her
   * connected, with traffic that grows, live over SSE. */
  it('shows a connected peer with live traffic on the dashboard', async () => {
    const conf = await page.evaluate(async () => {
      const r = await fetch('/api/v1/wireguard/interfaces/atu0/peers/alice/config',
        { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token') } });
      return r.text();
    });
    const get = k => { const m = conf.match(new RegExp('^' + k + '\\s*=\\s*(\\S+)', 'm')); assert.ok(m, k + ' in the config'); return m[1]; };
    const dir = mkdtempSync(join(tmpdir(), 'atlas-wgc-'));
    try {
      writeFileSync(join(dir, 'key'), get('PrivateKey') + '\n', { mode: 0o600 });
      writeFileSync(join(dir, 'psk'), get('PresharedKey') + '\n', { mode: 0o600 });
      const run = (cmd, ...a) => {
        const r = spawnSync(cmd, a, { encoding: 'utf8', timeout: 10000 });
        assert.equal(r.status, 0, `${cmd} ${a.join(' ')}: ${r.stderr}`);
      };
      run('wireguard-go', CLIENT_IFACE);
      run('wg', 'set', CLIENT_IFACE, 'private-key', join(dir, 'key'), 'peer', get('PublicKey'),
        'preshared-key', join(dir, 'psk'), 'endpoint', '127.0.0.1:18111', 'allowed-ips', '10.251.7.1/32',
        'persistent-keepalive', '1');
      run('ip', 'link', 'set', CLIENT_IFACE, 'up');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await go(page, 'dashboard');
    await page.waitForFunction(() => {
      const dd = document.querySelector('[data-engine="wireguard"] dd');
      return dd && Number(dd.textContent) >= 1;
    }, null, { timeout: 30000 });
    const row = page.locator('[data-traffic="alice"]');
    await row.waitFor({ timeout: 15000 });
    /* Several samples: the chart has a line and the totals are not zero. */
    await page.waitForFunction(() => {
      const pl = document.querySelector('[data-traffic="alice"] polyline');
      return pl && pl.getAttribute('points').split(' ').length >= 3;
    }, null, { timeout: 30000 });
    const totals = (await row.locator('td').nth(1).innerText()).trim();
    assert.doesNotMatch(totals, /^0 B\s+0 B$/, 'traffic totals: ' + totals);
    await shot(page, 'dashboard-live-desktop');
    await go(page, 'wireguard');
    const alice = await peerRow('alice');
    await alice.locator('.badge', { hasText: /^connected$/ }).waitFor({ timeout: 15000 });
    assert.match(await alice.innerText(), /\t\d+ s ago\n/);
    assert.match(await page.getByTestId('iface-summary').innerText(), / · 1 peer$/, 'a count in its number');
  });

  /* alice's traffic is recorded (usage tick): her page shows it in a 30-day
   * chart, and a reset (confirmed) starts her period at 0. */
  it("alice's page: usage of the period, a 30-day chart from recorded traffic, a confirmed reset", async () => {
    const asked = [];
    const seen = req => { if (req.url().includes('/api/v1/usage?')) asked.push(new URL(req.url()).search); };
    page.on('request', seen);
    await go(page, 'user/alice');
    const u = page.locator(`[data-usage="wg/${IFACE}"]`);
    await u.getByTestId('usage-text').waitFor();
    for (let i = 0; i < 20 && !(await u.getByTestId('usage-chart').count()); i++) { await page.waitForTimeout(1000); await go(page, 'user/alice'); }
    const chart = u.getByTestId('usage-chart');
    await chart.waitFor();
    assert.match(await chart.locator('path').getAttribute('d'), /^(M[\d.]+ [\d.]+h[\d.]+v[\d.]+h-[\d.]+z)+$/, 'a bar per day with traffic');
    assert.match(await chart.getAttribute('aria-label'), /^daily traffic, \d+ days: [1-9][\d.]* (B|KiB|MiB)$/);
    assert.match(await u.getByTestId('usage-text').innerText(), /^[1-9][\d.]* (B|KiB|MiB) · no quota · all time [1-9]/);
    assert.equal(await page.getByTestId('person-ovpn').isVisible(), false);
    assert.match(await page.getByTestId('person-wg').innerText(), /the first peer/);
    await shot(page, 'user-page-usage-desktop');
    page.off('request', seen);
    assert.ok(asked.length >= 1 && asked.every(q => q === '?days=30&user=alice'), 'her page asks for her usage only: ' + asked.join(' '));
    await page.getByTestId('usage-reset').click();
    await confirmDialog(page, /Start the quota period of "alice" at 0/);
    await page.locator('[role="status"]', { hasText: /Usage of alice reset \(\d+ entr/ }).waitFor();
  });

  it('takes screenshots of every view at desktop and phone widths', async () => {
    for (const [w, h, tag] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
      await page.setViewportSize({ width: w, height: h });
      for (const v of VIEWS) {
        await go(page, v);
        await page.waitForTimeout(400);
        await shot(page, `${v.replace("/", "-")}-${tag}`);
        /* nothing wider than the phone: no sideways scrolling of the page */
        await noOverflow(page, v);
      }
    }
    /* The phone menu opens with a real button and lists every view. */
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.locator('#nav').getByText('History').waitFor({ state: 'visible' });
    await shot(page, 'menu-phone');
    await page.locator('#nav').getByText('Dashboard').click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const v of VIEWS) {
      await go(page, v);
      await page.waitForTimeout(300);
      await shot(page, `${v.replace("/", "-")}-dark-desktop`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('changes the password; the old one stops working', async () => {
    await go(page, 'settings');
    await page.locator('#pw-cur').fill(atlas.password);
    await page.locator('#pw-new').fill('new-password-42');
    await page.locator('#pw-again').fill('new-password-42');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    /* Still signed in (the panel signed in again with the new password). */
    await go(page, 'wireguard');
    await (await peerRow('alice')).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('login-error').getByText('Wrong username or password').waitFor();
    await page.locator('#login-pass').fill('new-password-42');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('shows the rate-limit error after repeated wrong passwords', async () => {
    await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
    let seen = false;
    for (let i = 0; i < 30 && !seen; i++) {
      await page.locator('#login-pass').fill('wrong-' + i);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('login-error').waitFor({ state: 'visible' });
      await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled);
      seen = /too many failed attempts/i.test(await page.getByTestId('login-error').textContent());
    }
    assert.ok(seen, 'a 429 shows "too many failed attempts"');
    await shot(page, 'login-ratelimit-desktop');
  });

  /* The check below is only worth something if a violation is seen: an
   * inline <style> (refused by style-src 'self') must be blocked and reported. */
  it('enforces the server\'s CSP: an inline style is refused and reported', async () => {
    const before = browser.violations.length;
    const applied = await page.evaluate(() => {
      const st = document.createElement('style');
      st.textContent = 'body { outline: 7px solid rgb(1, 2, 3) }';
      document.head.appendChild(st);
      const on = getComputedStyle(document.body).outlineColor === 'rgb(1, 2, 3)';
      st.remove();
      return on;
    });
    assert.equal(applied, false, 'the inline style was applied');
    for (let i = 0; i < 50 && browser.violations.length === before; i++) await page.waitForTimeout(50);
    const seen = browser.violations.splice(before);
    assert.equal(seen.length, 1, 'one violation reported: ' + seen.join('; '));
    assert.match(seen[0], /^style-src/);
    /* The console message of that violation is expected too: drop it. */
    await page.waitForTimeout(100);
    for (let i = pageErrors.length - 1; i >= 0; i--)
      if (/Content.Security.Policy/i.test(pageErrors[i]) && /inline style/i.test(pageErrors[i])) pageErrors.splice(i, 1);
  });

  it('never reached anything but the Atlas server, no script error, no CSP violation, no JS dialog', () => {
    assert.deepEqual(browser.blocked, [], 'requests to other hosts');
    assert.deepEqual(pageErrors, [], 'uncaught page errors');
    assert.deepEqual(browser.violations, [], 'CSP violations (securitypolicyviolation events)');
    assert.deepEqual(dialogs, [], 'JavaScript dialogs');
  });
});
