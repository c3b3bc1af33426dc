/*
 * singbox.test.mjs - the sing-box tab, in a real chromium against a real
 * `atlas serve` that runs the real sing-box (the test build), started on an
 * EMPTY data directory: a VLESS+REALITY inbound and a Shadowsocks inbound
 * are created from their forms (each form shows only its protocol's fields,
 * with defaults; an API refusal shows at the field), a user is added to both;
 * the QR code of each of their links decodes (zbarimg) to exactly what
 * `atlas singbox links` prints, the subscription URL is copied to the
 * clipboard, its QR decodes to it, and the test fetches it: the links again.
 * A real sing-box client, configured from nothing but the ss:// and the
 * vless:// (REALITY) link of that body, loads a page of the test's own HTTP
 * server through the Atlas server (REALITY's handshake target: a TLS 1.3
 * server of the test).
 * A hostile name and note render as text.
 * In manual apply mode the plan shows a Shadowsocks user change as live and a
 * VLESS change as a reload that drops connections; Apply shows its result.
 * Rotating the subscription kills the old URL; disable / delete with a
 * confirmation. Runs inside the network namespace of tests/run-browser.sh.
 * Ports 18140-18142, 18146, 18148; 18143 the page, 18144/18147 the client's
 * proxies (Shadowsocks/VLESS), 18145 the REALITY target. Screenshots: singbox-*.png in tests/artifacts/screenshots.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAtlas, launch, shot, closeModals, finish, noOverflow, ROOT } from './harness.mjs';

const PORT = 18140;
const VLESS_PORT = 18141;
const SS_PORT = 18142;
const PAGE_PORT = 18143;
const TARGET_PORT = 18145;
/* The client's local proxies: one per link, each routed to that link's outbound only. */
const VIA = { ss: 18144, edge: 18147 };
/* What the page says: only the test's HTTP server can answer it. */
const PAGE_BODY = 'hello through sing-box ' + randomUUID();
const SB = '/var/cache/atlas-test/sing-box-1.14.1/sing-box';
const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';

const sleep = ms => new Promise(r => setTimeout(r, ms));

let atlas, browser, page, tmp, pageServer, targetServer, client;
const dialogs = [];
const pageErrors = [];

function cli(...args) {
  const r = spawnSync(process.env.ATLAS_BIN || join(ROOT, 'build', 'atlas'), ['--data', atlas.data, ...args],
    { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `atlas ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(what, fn, ms = 20000) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) assert.fail('timed out waiting for ' + what);
    await sleep(200);
  }
}

/* Waits (briefly) until loc is shown or hidden: Alpine updates after the event. */
async function shows(loc, yes) {
  await loc.waitFor({ state: yes ? 'visible' : 'hidden', timeout: 5000 });
}

async function snap(name) {
  await page.evaluate(() => { Alpine.$data(document.body).toasts = []; });
  await page.waitForTimeout(50);
  await shot(page, name);
}

async function go(view) {
  await page.evaluate(v => { location.hash = '#/' + v; }, view);
  await page.locator(`[data-view="${view}"]`).waitFor({ state: 'visible' });
}

async function confirmDialog(expectText) {
  const box = page.getByTestId('confirm-dialog');
  await box.waitFor({ state: 'visible' });
  if (expectText) assert.match(await box.innerText(), expectText);
  await page.getByTestId('confirm-ok').click();
  await box.waitFor({ state: 'hidden' });
}

/* Waits for the sing-box result box to show label settled; returns its text. */
async function resultOf(label, badge = /^(applied|failed)$/) {
  const box = page.getByTestId('sb-result');
  await box.getByText(label, { exact: true }).waitFor();
  await box.locator('.badge', { hasText: badge }).waitFor({ timeout: 40000 });
  return box.innerText();
}

/* The QR image of the open QR dialog, decoded by zbarimg. */
async function decodeQr(name) {
  const img = page.getByTestId('sb-qr-img');
  await img.waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('[data-testid="sb-qr-img"]'); return i && i.complete && i.naturalWidth > 0; });
  const file = join(tmp, name + '.png');
  await img.screenshot({ path: file });
  const r = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, 'zbarimg found no code in ' + file + ': ' + r.stderr);
  return r.stdout.replace(/\n$/, '');
}

function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const r = await fetch('/api/v1' + p, { method: m, body: b ? JSON.stringify(b) : undefined,
      headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token'), 'Content-Type': 'application/json' } });
    return { status: r.status, body: await r.text() };
  }, [method, path, body]);
}

/* The parts of a share link, read from the link alone: ss:// (SIP002: the
 * userinfo percent-encoded, or base64 for the older methods) and vless://
 * (Xray-core's share-link standard). */
function parseLink(link) {
  const u = new URL(link);
  const l = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), name: decodeURIComponent(u.hash.slice(1)) };
  if (u.protocol === 'ss:') {
    let info = decodeURIComponent(u.username);
    if (!info.includes(':')) info = Buffer.from(info, 'base64').toString('utf8');
    const i = info.indexOf(':');
    return { ...l, proto: 'shadowsocks', method: info.slice(0, i), password: info.slice(i + 1) };
  }
  if (u.protocol === 'vless:') {
    const q = Object.fromEntries(u.searchParams);
    return { ...l, proto: 'vless', uuid: decodeURIComponent(u.username), ...q };
  }
  throw new Error('the test reads no ' + u.protocol + ' link');
}

/* The sing-box client outbound that a parsed link describes. */
function outboundOf(l) {
  const out = { tag: l.name, server: l.host, server_port: l.port };
  if (l.proto === 'shadowsocks') return { type: 'shadowsocks', ...out, method: l.method, password: l.password };
  assert.equal(l.encryption, 'none');
  assert.equal(l.security, 'reality');
  assert.equal(l.type, 'tcp');
  return { type: 'vless', ...out, uuid: l.uuid, flow: l.flow,
    tls: { enabled: true, server_name: l.sni, utls: { enabled: true, fingerprint: l.fp },
      reality: { enabled: true, public_key: l.pbk, short_id: l.sid } } };
}

/* A client config: a local mixed proxy per link (VIA), routed to that
 * link's outbound; no direct outbound, so nothing bypasses the server. */
function clientConfig(links) {
  return {
    log: { level: 'warn' },
    inbounds: links.map(l => ({ type: 'mixed', tag: 'via-' + l.name, listen: '127.0.0.1', listen_port: VIA[l.name] })),
    outbounds: links.map(outboundOf),
    route: { rules: links.map(l => ({ inbound: ['via-' + l.name], action: 'route', outbound: l.name })) },
  };
}

const canConnect = port => new Promise(res => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
  s.on('error', () => res(false));
});

/* Starts the real sing-box as a client of config; resolves once its proxies listen. */
async function startClient(config, tag) {
  const file = join(tmp, tag + '.client.json');
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  const proc = spawn(SB, ['run', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.log = '';
  proc.stdout.on('data', d => { proc.log += d; });
  proc.stderr.on('data', d => { proc.log += d; });
  proc.on('exit', c => { proc.exited = c === null ? 'signal' : c; });
  client = proc;
  await waitFor('the sing-box client to listen (' + file + ')', async () => {
    if (proc.exited !== undefined) assert.fail('the sing-box client exited (' + proc.exited + '): ' + proc.log);
    for (const l of config.inbounds) if (!(await canConnect(l.listen_port))) return false;
    return true;
  });
  return proc;
}

async function stopClient() {
  if (!client) return;
  const p = client;
  client = null;
  if (p.exited !== undefined) return;
  const gone = new Promise(r => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, sleep(3000)]);
  if (p.exited === undefined) p.kill('SIGKILL');
}

/* The page, through the client's proxy on port (curl: a child, so this process keeps serving the page). */
async function fetchVia(port) {
  const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '15',
    '--socks5-hostname', '127.0.0.1:' + port, `http://127.0.0.1:${PAGE_PORT}/page`]);
  return stdout;
}

const listen = (server, port) => new Promise((res, rej) => {
  server.once('error', rej);
  server.listen(port, '127.0.0.1', res);
});

describe('the sing-box tab', { timeout: 300000 }, () => {
  before(async () => {
    assert.ok(existsSync(SB), 'the sing-box test binary is missing: ' + SB + ' (scripts/singbox.sh builds it)');
    for (const p of ['zbarimg', 'curl']) assert.equal(spawnSync('which', [p]).status, 0, p + ' is not installed');
    tmp = mkdtempSync(join(tmpdir(), 'atlas-sbtest-'));
    /* The "internet" of the client: a page, and a TLS 1.3 server as REALITY's handshake target. */
    pageServer = createServer((req, res) => { res.setHeader('Content-Type', 'text/plain'); res.end(PAGE_BODY); });
    await listen(pageServer, PAGE_PORT);
    const key = join(tmp, 'target.key'), crt = join(tmp, 'target.crt');
    const ossl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-days', '2', '-subj', '/CN=www.example.com', '-keyout', key, '-out', crt], { encoding: 'utf8' });
    assert.equal(ossl.status, 0, 'openssl req: ' + ossl.stderr);
    targetServer = createTlsServer({ key: readFileSync(key), cert: readFileSync(crt), minVersion: 'TLSv1.3' },
      s => s.end('target\n'));
    targetServer.on('tlsClientError', () => {});
    await listen(targetServer, TARGET_PORT);
    atlas = await startAtlas({ port: PORT });
    browser = await launch(atlas.base);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: atlas.base });
    page = browser.page;
    page.setDefaultTimeout(25000);
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', e => pageErrors.push(String(e)));
  });

  beforeEach(() => closeModals(page));
  after(async () => {
    await stopClient();
    for (const s of [pageServer, targetServer]) if (s) { s.closeAllConnections?.(); s.close(); }
    await finish(browser, atlas, 'atlas-serve-singbox.log');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('signs in to an empty server; the tab offers to set up sing-box', async () => {
    await page.goto(atlas.base + '/', { waitUntil: 'networkidle' });
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    /* The test build of sing-box (Atlas looks for `sing-box` in the system's directories only). */
    assert.equal((await api('PATCH', '/settings', { singbox_binary: SB })).status, 200);
    await page.getByRole('link', { name: 'sing-box' }).click();
    await page.locator('[data-view="singbox"]').waitFor({ state: 'visible' });
    await page.getByTestId('sb-empty').waitFor();
    await snap('singbox-empty');
  });

  it('creates a VLESS+REALITY inbound from its form; a refusal shows at the field', async () => {
    await page.getByTestId('sb-add-inbound').click();
    const d = page.getByTestId('sb-inbound-dialog');
    await d.waitFor();
    /* VLESS by default: REALITY, its server name filled in, no transport (not with REALITY), no method. */
    assert.equal(await d.getByLabel('Protocol').inputValue(), 'vless');
    assert.equal(await d.getByLabel('Security').inputValue(), 'reality');
    assert.equal(await d.getByLabel('Port (TCP)').inputValue(), '443');
    assert.notEqual(await d.locator('#sbin-sni').inputValue(), '');
    await shows(d.locator('#sbin-target'), true);
    await shows(d.getByLabel('Transport'), false);
    await shows(d.getByLabel('Method'), false);
    await shows(d.getByLabel('Certificate file'), false);
    /* TLS shows the certificate and the transport; back to REALITY hides them. */
    await d.getByLabel('Security').selectOption('tls');
    await shows(d.getByLabel('Certificate file'), true);
    await shows(d.getByLabel('Transport'), true);
    await d.getByLabel('Transport').selectOption('ws');
    await shows(d.getByLabel('Path'), true);
    await d.getByLabel('Security').selectOption('reality');
    await shows(d.getByLabel('Transport'), false);
    await snap('singbox-form-vless');

    await d.locator('#sbin-name').fill('edge');
    await d.getByLabel('Port (TCP)').fill(String(VLESS_PORT));
    await d.locator('#sbin-sni').fill('not a host name');
    await d.locator('#sbin-user').fill('alice');
    await d.getByRole('button', { name: 'Create inbound' }).click();
    const err = d.locator('#sbin-sni-err');
    await err.waitFor();
    assert.match(await err.innerText(), /server_name/);
    assert.equal(await page.getByTestId('sb-inbound-error').isVisible(), false, 'the error is at its field');
    assert.equal((await api('GET', '/singbox/inbounds')).body.trim(), '[]', 'nothing stored');

    await d.locator('#sbin-sni').fill('www.example.com');
    await d.locator('#sbin-target').fill('127.0.0.1:' + TARGET_PORT);
    await d.getByRole('button', { name: 'Create inbound' }).click();
    await d.waitFor({ state: 'hidden' });
    const r = await resultOf('Create edge');
    assert.match(r, /applied/, r);
    const row = page.locator('[data-sb-inbound="edge"]');
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(String(VLESS_PORT)));
    assert.equal(await row.getByTestId('sb-security').innerText(), 'REALITY');
  });

  it('creates a Shadowsocks inbound: its form has a method and no TLS', async () => {
    await page.getByTestId('sb-add-inbound').click();
    const d = page.getByTestId('sb-inbound-dialog');
    await d.waitFor();
    await d.getByLabel('Protocol').selectOption('shadowsocks');
    assert.equal(await d.getByLabel('Method').inputValue(), '2022-blake3-aes-128-gcm');
    assert.equal(await d.locator('#sbin-name').inputValue(), 'ss');
    assert.equal(await d.getByLabel('Port (TCP and UDP)').inputValue(), '8388');
    for (const l of ['Security', 'Transport', 'Certificate file']) await shows(d.getByLabel(l), false);
    await shows(d.locator('#sbin-sni'), false);
    assert.equal(await d.locator('#sbin-user').inputValue(), 'alice', 'the first user defaults to an existing person');
    await snap('singbox-form-shadowsocks');
    await d.getByLabel('Port (TCP and UDP)').fill(String(SS_PORT));
    await d.getByRole('button', { name: 'Create inbound' }).click();
    await d.waitFor({ state: 'hidden' });
    assert.match(await resultOf('Create ss'), /applied/);
    const row = page.locator('[data-sb-inbound="ss"]');
    await row.waitFor();
    assert.equal(await row.getByTestId('sb-security').innerText(), 'none');
    assert.equal(await page.locator('[data-sb-group="shadowsocks"]').count(), 1);
    assert.equal(await page.locator('[data-sb-group="vless"]').count(), 1);
  });

  it('sets the server address the links name', async () => {
    const f = page.getByTestId('sb-host-missing');
    await f.waitFor();
    await f.getByLabel('Server address').fill('127.0.0.1');
    await f.getByRole('button', { name: 'Save address' }).click();
    await f.waitFor({ state: 'hidden' });
  });

  it('refuses a hostile user name as text; adds bob to both inbounds with a hostile note', async () => {
    await page.getByTestId('sb-add-user').click();
    const d = page.getByTestId('sb-user-dialog');
    await d.waitFor();
    assert.equal(await d.getByRole('checkbox').count(), 2);
    for (const c of await d.getByRole('checkbox').all()) assert.equal(await c.isChecked(), true, 'every inbound ticked');
    await d.getByLabel('Name').fill(HOSTILE);
    await d.getByRole('button', { name: 'Add user' }).click();
    const err = d.locator('.err:visible').first();
    await err.waitFor();
    assert.match(await err.innerText(), /name/, 'the refusal names the field');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no markup from the refused name');
    await d.getByLabel('Name').fill('bob');
    await d.getByLabel('Note').fill(HOSTILE);
    await d.getByRole('button', { name: 'Add user' }).click();
    await d.waitFor({ state: 'hidden' });
    assert.match(await resultOf('Add bob'), /applied/);
    const row = page.locator('[data-sb-user="bob"]');
    await row.waitFor();
    assert.equal(await row.getByTestId('sb-user-note').innerText(), HOSTILE);
    assert.equal(await page.locator('img[src="x"], [data-view] script').count(), 0, 'no markup from data');
    assert.equal(await row.locator('td').nth(2).innerText(), 'edge, ss');
  });

  it("bob's page: every link, and its QR decodes to what `atlas singbox links` prints", async () => {
    await page.getByRole('button', { name: 'Links and QR codes of bob' }).click();
    const person = page.getByTestId('sb-person');
    await person.waitFor();
    assert.equal(await person.getByTestId('sb-person-name').innerText(), 'bob');
    await person.locator('[data-sb-link="ss"]').waitFor();
    const want = cli('singbox', 'links', 'bob').trim().split('\n');
    assert.equal(want.length, 2);
    const shown = await person.getByTestId('sb-link-text').allInnerTexts();
    assert.deepEqual(shown.slice().sort(), want.slice().sort());
    await snap('singbox-person');
    for (const inbound of ['edge', 'ss']) {
      await person.locator(`[data-sb-link="${inbound}"]`).getByTestId('sb-link-qr').click();
      await page.getByTestId('sb-qr-dialog').waitFor();
      const got = await decodeQr('qr-' + inbound);
      assert.ok(want.includes(got), `the QR of ${inbound} decodes to a link atlas prints: ${got}`);
      assert.ok(got.endsWith('#' + inbound), got);
      if (inbound === 'edge') {
        assert.match(got, /^vless:\/\/.*security=reality/);
        await snap('singbox-qr');
      } else assert.match(got, /^ss:\/\/2022-blake3-aes-128-gcm/);
      await page.keyboard.press('Escape');
      await page.getByTestId('sb-qr-dialog').waitFor({ state: 'hidden' });
    }
  });

  let subUrl, subLinks;
  it('copies the subscription URL; its QR decodes to it; the test fetches it: the links', async () => {
    const sub = page.getByTestId('sb-sub');
    subUrl = cli('singbox', 'sub', 'bob').trim();
    await sub.getByTestId('sb-sub-url').getByText(subUrl).waitFor();
    await sub.getByTestId('sb-sub-copy').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), subUrl);
    await sub.getByTestId('sb-sub-qr').click();
    assert.equal(await decodeQr('qr-sub'), subUrl);
    await page.keyboard.press('Escape');

    const token = new URL(subUrl).pathname;
    assert.match(token, /^\/sub\/[A-Za-z0-9_-]{20,}$/);
    const r = await fetch(atlas.base + token);
    assert.equal(r.status, 200);
    const links = Buffer.from(await r.text(), 'base64').toString('utf8').trim().split('\n');
    assert.deepEqual(links.sort(), cli('singbox', 'links', 'bob').trim().split('\n').sort());
    subLinks = links;
  });

  it("a real sing-box client made from the subscription's links alone loads a page through the server", async () => {
    assert.ok(subLinks, 'the subscription was fetched');
    const ss = parseLink(subLinks.find(l => l.startsWith('ss://')));
    const edge = parseLink(subLinks.find(l => l.startsWith('vless://')));
    assert.deepEqual([ss.name, ss.host, ss.port, ss.method], ['ss', '127.0.0.1', SS_PORT, '2022-blake3-aes-128-gcm']);
    assert.match(ss.password, /^[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/, 'SERVERKEY:USERKEY');
    assert.deepEqual([edge.name, edge.host, edge.port, edge.sni, edge.flow],
      ['edge', '127.0.0.1', VLESS_PORT, 'www.example.com', 'xtls-rprx-vision']);
    assert.match(edge.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(edge.pbk, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(edge.sid !== undefined && /^[0-9a-f]{0,16}$/.test(edge.sid), 'sid: ' + edge.sid);
    await startClient(clientConfig([ss, edge]), 'bob');
    for (const [name, port] of Object.entries(VIA))
      assert.equal(await fetchVia(port).catch(e => assert.fail(`${name}: ${e.message}\n${client.log}`)), PAGE_BODY,
        'the page through the ' + name + ' link');
    await stopClient();
  });

  it('in manual apply mode the plan shows a Shadowsocks user change as live and a VLESS change as a reload', async () => {
    assert.equal((await api('PATCH', '/settings', { auto_apply: false })).status, 200);
    await page.waitForFunction(() => Alpine.$data(document.body).status.auto_apply === false);
    /* Shadowsocks: carol joins ss only. */
    await page.getByTestId('sb-add-user').click();
    const d = page.getByTestId('sb-user-dialog');
    await d.getByLabel('Name').fill('carol');
    await d.getByRole('checkbox', { name: /edge/ }).uncheck();
    await d.getByRole('button', { name: 'Add user' }).click();
    await d.waitFor({ state: 'hidden' });
    await resultOf('Add carol', /^waiting for Apply$/);
    await go('plan');
    const g = page.locator('[data-plan-engine="singbox"]');
    /* carol's own line: live, no drops (the line of the change, not the whole plan). */
    const line = g.locator('li', { hasText: 'carol' });
    await line.getByTestId('sb-plan-live').waitFor();
    assert.equal(await line.getByTestId('sb-plan-drops').isVisible(), false, 'a Shadowsocks user change reloads nothing');
    await snap('singbox-plan-live');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.getByTestId('apply-result').locator('.badge', { hasText: 'ok' }).waitFor({ timeout: 40000 });

    /* VLESS: a new port reloads sing-box; the plan says what it drops. */
    await go('singbox');
    await page.getByRole('button', { name: 'Edit inbound edge' }).click();
    const e = page.getByTestId('sb-inbound-dialog');
    assert.match(await e.innerText(), /Saving reloads sing-box/);
    assert.equal(await e.getByLabel('Protocol').isDisabled(), true);
    await e.getByLabel('Port (TCP)').fill(String(VLESS_PORT + 5));
    await e.getByRole('button', { name: 'Save inbound' }).click();
    await e.waitFor({ state: 'hidden' });
    await go('plan');
    const drops = g.getByTestId('sb-plan-drops');
    await drops.first().waitFor();
    assert.match(await drops.first().innerText(), /^drops \d+ connections?$/);
    assert.match(await g.innerText(), /singbox reload/);
    await snap('singbox-plan-reload');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await confirmDialog(/restarts 1 daemon/);
    const res = page.getByTestId('apply-result');
    await res.locator('.badge', { hasText: 'ok' }).waitFor({ timeout: 40000 });
    assert.match(await res.innerText(), /reload/);
    assert.equal((await api('PATCH', '/settings', { auto_apply: true })).status, 200);
  });

  it("the Plan view warns of sing-box's httpupgrade defect; the dashboard's user warnings leave it out", async () => {
    assert.equal((await api('PATCH', '/settings', { auto_apply: false })).status, 200);
    await page.waitForFunction(() => Alpine.$data(document.body).status.auto_apply === false);
    const r = await api('POST', '/singbox/inbounds', { name: 'hu', type: 'vless', port: 18148,
      security: 'tls', transport: 'httpupgrade', path: '/up', users: [{ name: 'dave' }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await go('plan');
    const w = page.getByTestId('plan-warnings');
    await w.waitFor();
    assert.match(await w.innerText(), /singbox\/hu: sing-box's httpupgrade server loses the first byte/);
    await snap('singbox-plan-warning');
    await go('dashboard');
    await page.locator('[data-engine="singbox"]').waitFor();
    /* the dashboard has the plan's warnings, the hu one among them */
    await page.waitForFunction(() => Alpine.$data(document.body).dash.warnings.some((w) => w.startsWith('singbox/hu: ')));
    assert.equal(await page.getByTestId('dash-warnings').isVisible(), false, 'not a warning about a user');
    assert.equal(await page.getByRole('link', { name: /^Page of / }).count(), 0, 'no link to a user named in the text');
    assert.equal((await api('DELETE', '/singbox/inbounds/hu')).status, 204);
    assert.equal((await api('PATCH', '/settings', { auto_apply: true })).status, 200);
    await page.waitForFunction(() => Alpine.$data(document.body).status.auto_apply === true);
  });

  it('rotates the subscription (confirmed): the old URL stops working', async () => {
    await go('singbox');
    await page.getByRole('button', { name: 'Links and QR codes of bob' }).click();
    const sub = page.getByTestId('sb-sub');
    await sub.getByTestId('sb-sub-url').getByText(subUrl).waitFor();
    await sub.getByTestId('sb-sub-rotate').click();
    await confirmDialog(/stops working/);
    await waitFor('a new URL', async () => (await sub.getByTestId('sb-sub-url').innerText()) !== subUrl);
    const now = await sub.getByTestId('sb-sub-url').innerText();
    assert.equal(now, cli('singbox', 'sub', 'bob').trim());
    assert.equal((await fetch(atlas.base + new URL(subUrl).pathname)).status, 404);
    assert.equal((await fetch(atlas.base + new URL(now).pathname)).status, 200);
  });

  it('edits, disables and deletes a user with confirmations', async () => {
    await page.getByRole('button', { name: 'Edit bob' }).click();
    const d = page.getByTestId('sb-user-dialog');
    assert.equal(await d.getByLabel('Note').inputValue(), HOSTILE);
    await d.getByLabel('Note').fill('the laptop');
    await d.getByRole('button', { name: 'Save', exact: true }).click();
    await d.waitFor({ state: 'hidden' });
    await page.locator('[data-sb-user="bob"]').getByText('the laptop').waitFor();

    await page.getByRole('button', { name: 'Disable bob' }).click();
    await confirmDialog(/Disable "bob" in edge, ss/);
    await page.locator('[data-sb-user="bob"] .badge', { hasText: 'disabled' }).waitFor();
    await page.getByRole('button', { name: 'Enable bob' }).click();
    await page.locator('[data-sb-user="bob"] .badge', { hasText: 'disabled' }).waitFor({ state: 'detached' });

    /* Cancel keeps carol; confirm deletes her. */
    await page.getByRole('button', { name: 'Delete carol' }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.locator('[data-sb-user="carol"]').count(), 1);
    await page.getByRole('button', { name: 'Delete carol' }).click();
    await confirmDialog(/Delete "carol" from ss/);
    await page.locator('[data-sb-user="carol"]').waitFor({ state: 'detached' });
  });

  it('screenshots: desktop, phone, dark; keyboard reaches the actions', async () => {
    await go('singbox');
    await page.getByRole('button', { name: 'Links and QR codes of bob' }).click();
    await page.getByTestId('sb-person').waitFor();
    await snap('singbox-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    await snap('singbox-phone');
    await noOverflow(page, 'sing-box');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await snap('singbox-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    /* The add-inbound button is a real button: Enter opens the form, Escape closes it. */
    await page.getByTestId('sb-add-inbound').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('sb-inbound-dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('sb-inbound-dialog').waitFor({ state: 'hidden' });
  });

  it('reached nothing but the Atlas server; no script error, no CSP violation, no JS dialog', () => {
    assert.deepEqual(browser.blocked, [], 'requests to other hosts');
    assert.deepEqual(browser.violations, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'uncaught page errors');
    assert.deepEqual(dialogs, [], 'JavaScript dialogs');
  });
});
