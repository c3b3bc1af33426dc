/*
 * engines.test.mjs - a first-time user sets up the engines from the panel, in
 * a real chromium against a real `atlas serve` started on an EMPTY data
 * directory (nothing imported): the dashboard links to the setup, the
 * OpenVPN form creates the server section and the daemon really runs (and
 * listens); a client is added; the server is edited (the warning names the
 * restart), restarted on purpose (a new daemon process, the run recorded) and
 * disabled (the daemon is gone). A WireGuard interface is added, edited (DNS;
 * the port warning), disabled and enabled (the link goes and comes back) and
 * deleted. Runs inside the network namespace tests/run-browser.sh makes.
 * Names: interface atv0, ports 18130-18132. Screenshots: engines-*.png.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAtlas, launch, shot, closeModals, finish, go, confirmDialog, openDialog, waitFor, noOverflow, ROOT } from './harness.mjs';

const PORT = 18130;
const WG_IFACE = 'atv0';
const WG_PORT = 18131;
const OVPN_PORT = 18132;


let atlas, browser, page;
const dialogs = [];
const pageErrors = [];

function sh(cmd, ...args) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
}

/* Is something listening on this UDP port (in the test's namespace)? */
function udpListening(port) {
  const r = sh('ss', '-Hlun', `sport = :${port}`);
  assert.equal(r.status, 0, 'ss: ' + r.stderr);
  return r.stdout.trim() !== '';
}

function linkExists(name) {
  return sh('ip', 'link', 'show', name).status === 0;
}

/* The pid of the openvpn daemon of this data directory, or 0. */
function ovpnPid() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)openvpn$/.test(cmd[0]) && cmd.some(a => a.startsWith(atlas.data + '/'))) return Number(d);
    } catch (e) { /* gone */ }
  }
  return 0;
}

/* A screenshot without the toasts of earlier steps over the content. */
async function snap(name) {
  await page.evaluate(() => { Alpine.$data(document.body).toasts = []; });
  await page.waitForTimeout(50);
  await shot(page, name);
}

/* Waits for the result box of the last action to settle and returns its text. */
async function resultOf(testid, label) {
  const box = page.getByTestId(testid);
  await box.getByText(label, { exact: true }).waitFor();
  await box.locator('.badge', { hasText: /^(ok|applied|failed)$/ }).waitFor({ timeout: 30000 });
  return box.innerText();
}

describe('engine setup and service control from the panel', { timeout: 240000 }, () => {
  before(async () => {
    atlas = await startAtlas({ port: PORT, iface: WG_IFACE });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(25000);
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', e => pageErrors.push(String(e)));
  });

  beforeEach(() => closeModals(page));
  after(() => finish(browser, atlas, 'atlas-serve-engines.log'));

  it('signs in to an empty server: the dashboard offers to set up each engine', async () => {
    await page.goto(atlas.base + '/', { waitUntil: 'networkidle' });
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    for (const [key, label] of [['wireguard', 'WireGuard'], ['openvpn', 'OpenVPN']]) {
      const card = page.locator(`[data-engine="${key}"]`);
      await card.getByText('not managed').waitFor();
      assert.equal(await card.getByRole('link', { name: 'Set up ' + label }).getAttribute('href'), '#/' + key);
    }
    assert.equal(await page.locator('[data-engine="singbox"]').getByTestId('engine-setup').isVisible(), false,
      'no setup link for an engine without a view');
    await snap('engines-dashboard-empty');
    await page.locator('[data-engine="openvpn"]').getByRole('link', { name: 'Set up OpenVPN' }).click();
    await page.locator('[data-view="openvpn"]').waitFor({ state: 'visible' });
  });

  it('sets up OpenVPN with the form; the daemon runs and listens', async () => {
    const form = page.getByTestId('ovpn-setup');
    await form.waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add client' }).count(), 0, 'no client before a server');
    /* The defaults a first-time user sees. */
    assert.equal(await form.getByLabel('Tunnel network (IPv4)').inputValue(), '10.9.0.0/24');
    assert.equal(await form.getByLabel('Port', { exact: true }).inputValue(), '1194');
    assert.equal(await form.getByLabel('Protocol').inputValue(), 'udp');
    await snap('engines-openvpn-setup');

    /* A bad network is refused with the server's message; nothing is set up. */
    await form.getByLabel('Tunnel network (IPv4)').fill('10.9.0.0/8');
    await form.getByRole('button', { name: 'Set up OpenVPN' }).click();
    const err = page.getByTestId('ovpn-setup-error');
    await err.waitFor();
    assert.match(await err.innerText(), /network "10\.9\.0\.0\/8"/);
    await snap('engines-openvpn-setup-error');

    await form.getByLabel('Tunnel network (IPv4)').fill('10.252.9.0/24');
    await form.getByLabel('Port', { exact: true }).fill(String(OVPN_PORT));
    await form.getByLabel('Protocol').selectOption('udp');
    await form.getByLabel('DNS for clients').fill('1.1.1.1');
    await form.getByLabel('DNS for clients').press('Enter');

    const server = page.getByTestId('ovpn-server');
    await server.waitFor();
    const res = await resultOf('ovpn-result', 'Set up OpenVPN');
    assert.match(res, /\bok\b/, res);
    assert.match(res, /openvpn server: start/, res);
    await page.getByTestId('ovpn-daemon').getByText('daemon running').waitFor();
    assert.match(await server.innerText(), new RegExp(`UDP port ${OVPN_PORT} · network 10\\.252\\.9\\.0/24`));
    assert.ok(ovpnPid() > 0, 'an openvpn process runs for this data directory');
    assert.ok(udpListening(OVPN_PORT), `openvpn listens on UDP ${OVPN_PORT}`);
    await page.getByTestId('ovpn-runs').getByText(/openvpn server: start/).waitFor();
    await snap('engines-openvpn-running');
  });

  it('adds a client to the new server; sets the server address; downloads its profile', async () => {
    await page.getByRole('button', { name: 'Add client' }).click();
    await openDialog(page).getByLabel('Name').fill('erin');
    await openDialog(page).getByLabel('Name').press('Enter');
    const row = page.locator('[data-client="erin"]');
    await row.waitFor();
    assert.match(await row.innerText(), /offline/);

    /* An empty data directory has no settings.host: profiles cannot name
     * the server, so the view asks for it. */
    const host = page.locator('[data-view="openvpn"]').getByTestId('host-missing');
    await host.waitFor();
    await snap('engines-openvpn-host-missing');
    await host.getByLabel('Server address').fill('vpn.example.test');
    await host.getByRole('button', { name: 'Save address' }).click();
    await host.waitFor({ state: 'hidden' });
    const [dl] = await Promise.all([page.waitForEvent('download'),
      row.getByRole('button', { name: 'Download .ovpn of erin' }).click()]);
    assert.equal(dl.suggestedFilename(), 'erin.ovpn');
    assert.match(readFileSync(await dl.path(), 'utf8'), new RegExp(`^remote vpn\\.example\\.test ${OVPN_PORT}`, 'm'));
  });

  it('edits the server after a warning that it restarts the daemon', async () => {
    const before = ovpnPid();
    await page.getByRole('button', { name: 'Edit server' }).click();
    const edit = page.getByTestId('ovpn-edit-dialog');
    await edit.waitFor();
    const warn = await page.getByTestId('ovpn-edit-warning').innerText();
    assert.match(warn, /Saving restarts the OpenVPN daemon/);
    assert.match(warn, /No client is connected now/);
    assert.equal(await edit.getByLabel('Routes pushed to clients').inputValue(), '');
    await edit.getByLabel('Routes pushed to clients').fill('192.168.77.0/24');
    await edit.getByLabel('DNS for clients').fill('9.9.9.9');
    await snap('engines-openvpn-edit');
    await edit.getByRole('button', { name: 'Save and restart' }).click();
    await edit.waitFor({ state: 'hidden' });
    const res = await resultOf('ovpn-result', 'Edit server');
    assert.match(res, /\bok\b/, res);
    assert.match(res, /openvpn server: restart/, res);
    const server = page.getByTestId('ovpn-server');
    await server.getByText(/routes 192\.168\.77\.0\/24/).waitFor();
    assert.match(await server.innerText(), /DNS 9\.9\.9\.9/);
    await waitFor('a new openvpn process', () => { const p = ovpnPid(); return p > 0 && p !== before; });
  });

  it('restarts the daemon on purpose (confirmed) and the run is recorded', async () => {
    const before = ovpnPid();
    assert.ok(before > 0);
    await page.getByTestId('ovpn-server').getByRole('button', { name: 'Restart' }).click();
    /* Cancel first: nothing happens. */
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'hidden' });
    assert.equal(ovpnPid(), before, 'a cancelled restart restarts nothing');

    await page.getByTestId('ovpn-server').getByRole('button', { name: 'Restart' }).click();
    await confirmDialog(page, /Restart the OpenVPN daemon now\? No client is connected now\./);
    const res = await resultOf('ovpn-result', 'Restart');
    assert.match(res, /\bok\b/, res);
    assert.match(res, /openvpn restart/, res);
    await page.getByTestId('ovpn-runs').getByText(/restart openvpn/).waitFor();
    await waitFor('a new openvpn process', () => { const p = ovpnPid(); return p > 0 && p !== before; });
    await page.getByTestId('ovpn-daemon').getByText('daemon running').waitFor();
    await waitFor(`UDP ${OVPN_PORT} listening again`, () => udpListening(OVPN_PORT));
    /* The history has it as a run with its trigger. */
    const runs = await page.evaluate(async () => {
      const r = await fetch('/api/v1/history', { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token') } });
      return (await r.json()).runs;
    });
    assert.ok(runs.some(r => r.trigger === 'restart openvpn' && r.ok), 'a recorded run "restart openvpn"');
    await snap('engines-openvpn-restarted');
  });

  it('disables OpenVPN (confirmed): the daemon stops, the clients stay', async () => {
    await page.getByRole('button', { name: 'Disable OpenVPN' }).click();
    await confirmDialog(page, /Stop the OpenVPN daemon\?.*kept/s);
    const res = await resultOf('ovpn-result', 'Disable');
    assert.match(res, /\bok\b/, res);
    assert.match(res, /openvpn server: stop/, res);
    await page.getByTestId('ovpn-daemon').getByText('daemon stopped').waitFor();
    await waitFor('the openvpn process to end', () => ovpnPid() === 0);
    assert.ok(!udpListening(OVPN_PORT), `nothing listens on UDP ${OVPN_PORT}`);
    const server = page.getByTestId('ovpn-server');
    assert.ok(await server.getByRole('button', { name: 'Restart' }).isDisabled(), 'no restart of a disabled server');
    await server.getByRole('button', { name: 'Enable OpenVPN' }).waitFor();
    await page.locator('[data-client="erin"]').waitFor();
    await snap('engines-openvpn-disabled');
  });

  it('adds a WireGuard interface on a fresh server', async () => {
    await go(page, 'wireguard');
    const empty = page.getByTestId('wg-empty');
    await empty.waitFor();
    await snap('engines-wireguard-empty');
    await empty.getByRole('button', { name: 'Set up WireGuard' }).click();
    assert.equal(await openDialog(page).getByLabel('Name').inputValue(), 'wg0', 'the first interface gets the usual defaults');
    await openDialog(page).getByLabel('Name').fill(WG_IFACE);
    await openDialog(page).getByLabel('Listen port (UDP)').fill(String(WG_PORT));
    await openDialog(page).getByLabel('Addresses').fill('10.252.10.1/24');
    await openDialog(page).getByRole('button', { name: 'Create interface' }).click();
    const card = page.locator(`[data-iface="${WG_IFACE}"]`);
    await card.waitFor();
    await waitFor(`link ${WG_IFACE}`, () => linkExists(WG_IFACE));
    assert.match(sh('wg', 'show', WG_IFACE, 'listen-port').stdout, new RegExp(String(WG_PORT)));
  });

  it('edits the interface: a port change warns, the DNS is saved', async () => {
    const card = page.locator(`[data-iface="${WG_IFACE}"]`);
    await card.getByRole('button', { name: `Edit interface ${WG_IFACE}` }).click();
    const edit = page.getByTestId('iface-edit-dialog');
    await edit.waitFor();
    const warn = page.getByTestId('iface-port-warning');
    assert.equal(await warn.isVisible(), false, 'no warning while the port is unchanged');
    await edit.getByLabel('Listen port (UDP)').fill(String(WG_PORT + 2));
    await warn.waitFor();
    assert.match(await warn.innerText(), /re-binds/);
    await edit.getByLabel('DNS for clients').fill('10.252.10.1, 1.1.1.1');
    await snap('engines-wireguard-edit');
    await edit.getByLabel('Listen port (UDP)').fill(String(WG_PORT));
    await warn.waitFor({ state: 'hidden' });
    await edit.getByRole('button', { name: 'Save interface' }).click();
    await edit.waitFor({ state: 'hidden' });
    await card.getByTestId('iface-summary').getByText(/DNS 10\.252\.10\.1, 1\.1\.1\.1/).waitFor();
    const res = await resultOf('wg-result', `Edit ${WG_IFACE}`);
    assert.match(res, /applied/, res);
    assert.match(sh('wg', 'show', WG_IFACE, 'listen-port').stdout, new RegExp(String(WG_PORT)), 'the port stayed');

    /* Bad input: the server's message names the field; the dialog stays open. */
    await card.getByRole('button', { name: `Edit interface ${WG_IFACE}` }).click();
    await edit.getByLabel('Addresses').fill('10.252.10.1/24, not-an-address');
    await edit.getByRole('button', { name: 'Save interface' }).click();
    const err = page.getByTestId('iface-edit-error');
    await err.waitFor();
    assert.match(await err.innerText(), /not-an-address/);
    await snap('engines-wireguard-edit-error');
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'hidden' });
  });

  it('disables and enables the interface: the link goes and comes back', async () => {
    const card = page.locator(`[data-iface="${WG_IFACE}"]`);
    await card.getByRole('button', { name: `Disable interface ${WG_IFACE}` }).click();
    await confirmDialog(page, /Disable interface "atv0"/);
    await card.locator('.badge', { hasText: 'disabled' }).waitFor();
    let res = await resultOf('wg-result', `Disable ${WG_IFACE}`);
    assert.match(res, /applied/, res);
    await waitFor(`link ${WG_IFACE} to go`, () => !linkExists(WG_IFACE));
    await snap('engines-wireguard-disabled');

    await card.getByRole('button', { name: `Enable interface ${WG_IFACE}` }).click();
    await card.locator('.badge', { hasText: 'enabled' }).waitFor();
    res = await resultOf('wg-result', `Enable ${WG_IFACE}`);
    assert.match(res, /applied/, res);
    await waitFor(`link ${WG_IFACE} back`, () => linkExists(WG_IFACE));
    assert.match(sh('wg', 'show', WG_IFACE, 'listen-port').stdout, new RegExp(String(WG_PORT)));
  });

  it('deletes the interface after a confirmation that names what is lost', async () => {
    const card = page.locator(`[data-iface="${WG_IFACE}"]`);
    await card.getByRole('button', { name: `Delete interface ${WG_IFACE}` }).click();
    await confirmDialog(page, /Delete interface "atv0"\? It is removed from the server with all its 0 peer/);
    await card.waitFor({ state: 'detached' });
    await page.getByTestId('wg-empty').waitFor();
    const res = await resultOf('wg-result', `Delete ${WG_IFACE}`);
    assert.match(res, /applied/, res);
    await waitFor(`link ${WG_IFACE} to go`, () => !linkExists(WG_IFACE));
    await snap('engines-wireguard-deleted');
  });

  it('shows the engines on the dashboard and the views at phone width and in dark mode', async () => {
    await go(page, 'dashboard');
    const wg = page.locator('[data-engine="wireguard"]');
    await wg.getByText('No interface yet.').waitFor();
    await wg.getByRole('link', { name: 'Set up WireGuard' }).waitFor();
    const ov = page.locator('[data-engine="openvpn"]');
    await ov.locator('.badge', { hasText: 'disabled' }).waitFor();
    assert.equal(await ov.getByTestId('engine-setup').isVisible(), false, 'a managed engine needs no setup link');
    await snap('engines-dashboard-after');

    await page.setViewportSize({ width: 390, height: 844 });
    await go(page, 'openvpn');
    await page.getByTestId('ovpn-server').waitFor();
    await snap('engines-openvpn-phone');
    await noOverflow(page, 'openvpn');
    await page.getByRole('button', { name: 'Edit server' }).click();
    await page.getByTestId('ovpn-edit-dialog').waitFor();
    const warn = await page.getByTestId('ovpn-edit-warning').innerText();
    assert.match(warn, /The server is disabled/);
    assert.doesNotMatch(warn, /Saving restarts/);
    await snap('engines-openvpn-edit-phone');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await snap('engines-openvpn-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  /* With settings.auto_apply false an edit waits for Apply: the panel says
   * so instead of a result, and nothing changes on the system until then. */
  it('in manual apply mode, enabling OpenVPN waits for Apply', async () => {
    const api = (method, path, body) => page.evaluate(async ([m, p, b]) => {
      const r = await fetch('/api/v1' + p, { method: m, body: b ? JSON.stringify(b) : undefined,
        headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token'), 'Content-Type': 'application/json' } });
      return r.status;
    }, [method, path, body]);
    assert.equal(await api('PATCH', '/settings', { auto_apply: false }), 200);
    await go(page, 'openvpn');
    await page.waitForFunction(() => Alpine.$data(document.body).status.auto_apply === false);
    await page.getByRole('button', { name: 'Enable OpenVPN' }).click();
    await confirmDialog(page, /Manual apply mode: this takes effect when you press Apply/);
    const box = page.getByTestId('ovpn-result');
    await box.locator('.badge', { hasText: 'waiting for Apply' }).waitFor();
    assert.match(await box.innerText(), /Review the plan/);
    await snap('engines-openvpn-manual');
    assert.equal(ovpnPid(), 0, 'nothing started before Apply');
    assert.equal(await api('PATCH', '/settings', { auto_apply: true }), 200); /* applies what is pending */
    await waitFor('openvpn to start once applied', () => ovpnPid() > 0);
    await page.getByTestId('ovpn-daemon').getByText('daemon running').waitFor();
  });

  it('reached nothing but the Atlas server; no script error, no CSP violation, no JS dialog', () => {
    assert.deepEqual(browser.blocked, [], 'requests to other hosts');
    assert.deepEqual(browser.violations, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'uncaught page errors');
    assert.deepEqual(dialogs, [], 'JavaScript dialogs');
  });
});
