/*
 * lists.test.mjs - the user lists at scale: 5,000 WireGuard peers imported
 * with the CLI (atlas import), then in chromium against a real `atlas
 * serve`: the table renders (the time after the data arrived is measured
 * with performance.now() and printed, not asserted), search finds one peer
 * by a part of its name, sorting and a filter work, a bulk disable of 50
 * selected peers is one confirmation and one generation; a user's page with
 * usage; the dashboard's warnings; no horizontal overflow at 390 px; a
 * hostile note is text everywhere. Screenshots of every new view at
 * 1280x800, 390x844 and in dark mode.
 * Then, on a server of its own with 125 peers and 3 OpenVPN clients: a bulk
 * action acts only on selected rows that exist and match the search (a
 * selection made under another search, or of a peer deleted by another
 * session, is dropped), and its confirmation names the users.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startAtlas, launch, shot, closeModals, finish, go, confirmDialog, noOverflow, openDialog } from './harness.mjs';

const PORT = 18240;
const IFACE = 'atu40';
const N = 5000;
const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';
/* in 3 days: a warning "expires on ..." on the dashboard */
const SOON = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);

function seed() {
  const peers = [];
  for (let i = 0; i < N; i++) {
    const name = 'u' + String(i).padStart(4, '0');
    let p = `        - name: ${name}\n`;
    if (i % 100 === 97) p += '          disabled: true\n';
    if (i % 250 === 3) p += `          note: desk ${i}\n`;
    peers.push(p);
  }
  return `version: 1
settings: {host: lists.example.test, resync: 3600}
wireguard:
  interfaces:
    - name: ${IFACE}
      listen_port: 18241
      address: [10.70.0.1/18]
      peers:
        - name: alice
          note: ${JSON.stringify(HOSTILE)}
          quota: 1GiB
          expires: ${SOON}
${peers.join('')}`;
}

let atlas, browser, page;
const dialogs = [];
const pageErrors = [];

/* The same request the panel makes, with the panel's token. */
function api(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const r = await fetch('/api/v1' + p, { method: m, body: b ? JSON.stringify(b) : undefined,
      headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token'), 'Content-Type': 'application/json' } });
    return r.json();
  }, [method, path, body]);
}

/* Screenshots at 1280x800, 390x844 and dark (desktop); the phone one also
 * checks there is no horizontal overflow. */
async function shots(name) {
  await shot(page, name + '-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  await noOverflow(page, name);
  await shot(page, name + '-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(200);
  await shot(page, name + '-dark');
  await page.emulateMedia({ colorScheme: 'light' });
}

const count = () => page.getByTestId('list-count').innerText();
const names = () => page.locator('[data-view="wireguard"] tr[data-peer]').evaluateAll(rs => rs.map(r => r.dataset.peer));

describe('user lists at scale', { timeout: 400000 }, () => {
  before(async () => {
    atlas = await startAtlas({ port: PORT, yaml: seed(), iface: IFACE });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(30000);
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', e => pageErrors.push(String(e)));
    /* a 404 is an answer the page expects (no OpenVPN client of that name) */
    page.on('console', m => { if (m.type() === 'error' && !/status of 404/.test(m.text())) pageErrors.push(m.text()); });
    await page.goto(atlas.base + '/');
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
  });
  beforeEach(() => closeModals(page));
  after(() => finish(browser, atlas, 'atlas-serve-lists.log'));

  it(`renders ${N + 1} peers as a table of pages; the render time is reported`, async () => {
    await go(page, 'wireguard');
    await page.locator('tr[data-peer="alice"]').waitFor();
    assert.match(await count(), new RegExp(`^1–50 of ${N + 1}$`));
    assert.equal((await names()).length, 50, 'one page of rows');
    /* at 1280 px a row's six actions are two lines at most, all inside the
     * table's box: no row three buttons tall, no button cut off at the edge */
    const fit = await page.locator('tr[data-peer="alice"]').evaluate(tr => {
      const box = tr.closest('.overflow-x-auto');
      const edge = box.getBoundingClientRect().right;
      const bs = [...tr.querySelectorAll('button')].map(b => b.getBoundingClientRect());
      return { lines: new Set(bs.map(r => Math.round(r.top))).size, buttons: bs.length,
        cut: bs.filter(r => r.right > edge + 0.5).length, scroll: box.scrollWidth - box.clientWidth };
    });
    assert.deepEqual(fit, { lines: 2, buttons: 6, cut: 0, scroll: 0 }, 'row actions at 1280 px');
    assert.equal(await page.locator('tr[data-peer="alice"] [data-testid="peer-note"]').innerText(), HOSTILE);
    assert.equal(await page.locator('img[src="x"], [data-view] script').count(), 0, 'no markup from data');
    /* the time from the data in hand to the rows on screen, as the panel does on a load */
    const ms = await page.evaluate(async () => {
      const c = Alpine.$data(document.body);
      const r = await fetch('/api/v1/wireguard/interfaces/' + c.wg.iface + '/peers',
        { headers: { Authorization: 'Bearer ' + c.token } });
      const peers = await r.json();
      c.wg.peers = [];
      await new Promise(res => requestAnimationFrame(() => setTimeout(res)));
      const t0 = performance.now();
      c.wg.peers = peers;
      await Alpine.nextTick();
      await new Promise(res => requestAnimationFrame(() => setTimeout(res)));
      return performance.now() - t0;
    });
    console.log(`# render of ${N + 1} peers after the data arrived: ${ms.toFixed(1)} ms`);
    /* typing: the search waits for a pause of 120 ms (debounce), then filters
       and renders once; measured from the last keystroke to the row shown */
    const typing = await page.evaluate(async () => {
      const q = document.getElementById('list-q');
      for (const part of ['u', 'u4', 'u43', 'u432']) { q.value = part; q.dispatchEvent(new Event('input')); }
      const t0 = performance.now();
      while (!document.querySelector('tr[data-peer="u4320"]') || document.querySelectorAll('tr[data-peer]').length !== 10)
        await new Promise(res => setTimeout(res, 5));
      const t = performance.now() - t0;
      q.value = '';
      q.dispatchEvent(new Event('input'));
      return t;
    });
    console.log(`# search over ${N + 1} peers: ${typing.toFixed(1)} ms from the last keystroke to the rows shown (120 ms of it the debounce)`);
    await page.waitForFunction(() => document.querySelectorAll('tr[data-peer]').length === 50);
    await shots('lists-wg');
  });

  it('search finds one peer by a part of its name, and by its note', async () => {
    await page.getByTestId('list-search').fill('4321');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-peer]').length === 1);
    assert.deepEqual(await names(), ['u4321']);
    assert.match(await count(), /^1–1 of 1 \(5001 in all\)$/);
    await page.getByTestId('list-search').fill('desk 4753');
    await page.waitForFunction(() => document.querySelector('tr[data-peer]') && document.querySelector('tr[data-peer]').dataset.peer === 'u4753');
    assert.deepEqual(await names(), ['u4753']);
    await page.getByTestId('list-search').fill('');
    await page.waitForFunction(() => document.querySelectorAll('tr[data-peer]').length === 50);
  });

  it('sorts by name both ways, pages, and filters the disabled', async () => {
    assert.equal((await names())[0], 'alice');
    await page.getByTestId('list-dir').click();
    await page.waitForFunction(() => document.querySelector('tr[data-peer]').dataset.peer === 'u4999');
    assert.deepEqual((await names()).slice(0, 3), ['u4999', 'u4998', 'u4997']);
    await page.getByTestId('list-dir').click();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-peer]').dataset.peer === 'u0049');
    assert.equal(await page.getByTestId('list-page').innerText(), '2 / 101');
    await page.getByTestId('list-filter').selectOption('disabled');
    await page.waitForFunction(() => document.querySelector('tr[data-peer]') && document.querySelector('tr[data-peer]').dataset.peer === 'u0097');
    assert.match(await count(), /^1–50 of 50 \(5001 in all\)$/, 'every 100th peer is disabled, from the first page');
    const badges = await page.locator('tr[data-peer] [data-testid="peer-status"]').allInnerTexts();
    assert.ok(badges.length === 50 && badges.every(b => b === 'disabled'), badges.join(','));
    await page.getByTestId('list-filter').selectOption('all');
    await page.getByTestId('list-sort').selectOption('status');
    await page.waitForFunction(() => document.querySelector('tr[data-peer] [data-testid="peer-status"]').textContent !== 'disabled');
    await page.getByTestId('list-dir').click();
    await page.waitForFunction(() => document.querySelector('tr[data-peer] [data-testid="peer-status"]').textContent === 'disabled');
    await page.getByTestId('list-dir').click();
    await page.getByTestId('list-sort').selectOption('name');
  });

  it('a bulk disable of 50 selected peers is one confirmation and one generation', async () => {
    await page.getByTestId('list-search').fill('u1');
    await page.waitForFunction(() => document.querySelector('tr[data-peer]').dataset.peer === 'u1000');
    const sel = await names();
    assert.equal(sel.length, 50);
    const before = (await api('GET', '/status')).generation;
    await page.getByTestId('list-select-page').check();
    await page.getByTestId('list-bulk').getByText('50 selected').waitFor();
    await shot(page, 'lists-wg-selected-desktop');
    await page.getByTestId('bulk-disable').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible' });
    await shot(page, 'lists-wg-bulk-confirm-desktop');
    await confirmDialog(page, /^Disable 50 peers[\s\S]*Disable 50 peers: u1000, u1001, u1002, u1003, u1004, u1005, u1006, u1007, u1008, u1009 and 40 more\?/);
    await page.getByTestId('wg-result').getByText('Disable 50 peers').waitFor();
    await page.getByTestId('wg-result').locator('.badge', { hasText: 'applied' }).waitFor({ timeout: 40000 });
    const after = await api('GET', '/status');
    assert.equal(after.generation, before + 1, 'one generation for 50 peers');
    const h = await api('GET', '/history');
    assert.match(h.generations[0].summary, new RegExp(`^disable 50 peers ${IFACE}/\\*$`));
    const peers = await api('GET', `/wireguard/interfaces/${IFACE}/peers`);
    const off = new Set(peers.filter(p => p.disabled).map(p => p.name));
    for (const n of sel) assert.ok(off.has(n), n + ' disabled');
    assert.equal(off.size, 100, 'the 50 disabled before and the 50 selected: no other peer changed');
    await page.getByTestId('list-search').fill('');
    assert.equal(dialogs.length, 0);
  });

  it("a user's page: peer, usage bar against the quota, expiry; the hostile note is text", async () => {
    await go(page, 'user/alice');
    await page.getByTestId('person-wg').locator(`[data-person-peer="${IFACE}"]`).waitFor();
    assert.equal(await page.getByTestId('person-name').innerText(), 'alice');
    assert.match(await page.getByTestId('person-wg').innerText(), new RegExp(HOSTILE.replace(/[()[\]/\\.*+?^$|{}]/g, '\\$&')));
    assert.equal(await page.locator('img[src="x"], [data-view] script').count(), 0, 'no markup from data');
    const u = page.locator(`[data-usage="wg/${IFACE}"]`);
    await u.getByTestId('usage-bar').waitFor();
    assert.match(await u.getByTestId('usage-text').innerText(), /^0 B of 1 GiB \(0 %\) · all time 0 B$/);
    assert.equal(await u.getByTestId('usage-expires').innerText(), 'expires ' + SOON);
    assert.equal(await u.getByTestId('usage-state').innerText(), 'active');
    assert.equal(await page.getByTestId('person-ovpn').isVisible(), false, 'no OpenVPN client of that name');
    await shots('lists-user-page');
    await go(page, 'user/nobody');
    await page.getByTestId('person-empty').waitFor();
  });

  it('the dashboard lists the warnings of the plan: alice expires within 7 days', async () => {
    await go(page, 'dashboard');
    const w = page.getByTestId('dash-warnings');
    await w.waitFor();
    assert.match(await w.innerText(), new RegExp(`wireguard/${IFACE} peer alice: expires on ${SOON}`));
    await w.getByRole('link', { name: 'Page of alice' }).waitFor();
    await shots('lists-dashboard-warnings');
  });

  it('raised no page error, no CSP violation, no dialog; reached nothing else', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(browser.violations, []);
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(dialogs, []);
  });
});

/* 120 peers p001-p120, notes team-a (p001-p060) and team-b (p061-p120);
 * alice and alice-phone; g1-g3 (note grp); OpenVPN clients c1, c2 (note
 * red) and c3 (blue). */
const SEL_PORT = 18250;
const SEL_IFACE = 'atu41';

function selSeed() {
  let peers = '';
  for (let i = 1; i <= 120; i++)
    peers += `        - name: p${String(i).padStart(3, '0')}\n          note: team-${i <= 60 ? 'a' : 'b'}\n`;
  for (const n of ['alice', 'alice-phone']) peers += `        - name: ${n}\n`;
  for (const n of ['g1', 'g2', 'g3']) peers += `        - name: ${n}\n          note: grp\n`;
  return `version: 1
settings: {host: lists.example.test, resync: 3600}
wireguard:
  interfaces:
    - name: ${SEL_IFACE}
      listen_port: 18251
      address: [10.71.0.1/24]
      peers:
${peers}openvpn:
  port: 18252
  network: 10.72.0.0/24
  clients:
    - {name: c1, note: red}
    - {name: c2, note: red}
    - {name: c3, note: blue}
`;
}

describe('bulk actions act on the selected rows shown', { timeout: 240000 }, () => {
  let atlas, browser, page;
  const dialogs = [];
  const pageErrors = [];
  const api = (method, path, body) => page.evaluate(async ([m, p, b]) => {
    const r = await fetch('/api/v1' + p, { method: m, body: b ? JSON.stringify(b) : undefined,
      headers: { Authorization: 'Bearer ' + sessionStorage.getItem('atlas.token'), 'Content-Type': 'application/json' } });
    return r.status === 204 ? null : r.json();
  }, [method, path, body]);
  const rows = sel => page.locator(sel).evaluateAll(rs => rs.map(r => r.dataset.peer || r.dataset.client));
  const bar = () => page.getByTestId('list-bulk');
  /* The search typed, then the rows of view sel are exactly want. */
  async function search(q, sel, want) {
    await page.getByTestId('list-search').fill(q);
    await page.waitForFunction(([s, w]) => [...document.querySelectorAll(s)].map(r => r.dataset.peer || r.dataset.client).join() === w,
      [sel, want.join()]);
  }
  const tick = async sel => page.locator(sel + ' input[type="checkbox"]').check();
  /* The bulk bar says "n selected" (hidden for none). */
  async function selected(n) {
    if (!n) return bar().waitFor({ state: 'hidden', timeout: 5000 });
    await bar().getByText(n + ' selected', { exact: true }).waitFor({ timeout: 5000 });
  }
  const disabled = async () => (await api('GET', `/wireguard/interfaces/${SEL_IFACE}/peers`)).filter(p => p.disabled).map(p => p.name);
  const WG = `[data-view="wireguard"] tr[data-peer]`, OV = '[data-view="openvpn"] tr[data-client]';

  before(async () => {
    atlas = await startAtlas({ port: SEL_PORT, yaml: selSeed(), iface: SEL_IFACE });
    browser = await launch(atlas.base);
    page = browser.page;
    page.setDefaultTimeout(30000);
    page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    page.on('pageerror', e => pageErrors.push(String(e)));
    page.on('console', m => { if (m.type() === 'error' && !/status of 404/.test(m.text())) pageErrors.push(m.text()); });
    await page.goto(atlas.base + '/');
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
  });
  beforeEach(() => closeModals(page));
  after(() => finish(browser, atlas, 'atlas-serve-lists-sel.log'));

  it('a selection made under one search is dropped when the search changes; the hidden rows are never acted on', async () => {
    await go(page, 'wireguard');
    await page.locator('tr[data-peer="alice"]').waitFor();
    const teamB = Array.from({ length: 50 }, (_, i) => 'p' + String(61 + i).padStart(3, '0'));
    const teamA = Array.from({ length: 50 }, (_, i) => 'p' + String(1 + i).padStart(3, '0'));
    await search('team-b', WG, teamB);
    await page.getByTestId('list-select-page').check();
    await selected(50);
    /* another search: the 50 team-b peers are not shown, so not selected */
    await search('team-a', WG, teamA);
    await selected(0);
    assert.equal(await page.getByTestId('list-select-page').isChecked(), false);
    /* two ticked, then a search that shows neither: nothing selected */
    await tick('tr[data-peer="p002"]');
    await tick('tr[data-peer="p004"]');
    await selected(2);
    await search('alice', WG, ['alice', 'alice-phone']);
    await selected(0);
    /* the confirmation names the users; Cancel keeps them */
    await tick('tr[data-peer="alice"]');
    await tick('tr[data-peer="alice-phone"]');
    await selected(2);
    await page.getByTestId('bulk-delete').click();
    const box = page.getByTestId('confirm-dialog');
    await box.waitFor({ state: 'visible' });
    assert.match(await box.innerText(), /Delete 2 peers and their keys: alice, alice-phone\? Their configs stop working for good\./);
    await box.getByRole('button', { name: 'Cancel' }).click();
    await box.waitFor({ state: 'hidden' });
    /* back to the team-a page: a page of 50 selected, a long list named by its first 10 */
    await search('team-a', WG, teamA);
    await selected(0);
    await page.getByTestId('list-select-page').check();
    await selected(50);
    await page.getByTestId('bulk-disable').click();
    await confirmDialog(page, /Disable 50 peers: p001, p002, p003, p004, p005, p006, p007, p008, p009, p010 and 40 more\? They are cut off/);
    await page.getByTestId('wg-result').getByText('Disable 50 peers').waitFor();
    await page.getByTestId('wg-result').locator('.badge', { hasText: 'applied' }).waitFor({ timeout: 40000 });
    assert.deepEqual((await disabled()).sort(), teamA, 'exactly the 50 team-a peers shown, no team-b one');
    assert.equal((await api('GET', `/wireguard/interfaces/${SEL_IFACE}/peers`)).length, 125, 'nothing deleted');
    await selected(0);
  });

  it('a selected peer deleted by another session drops out of the selection; the bulk action acts on the rest', async () => {
    /* on its own: whatever an earlier test left selected goes */
    await page.evaluate(() => { const c = Alpine.$data(document.body); c.selClear(c.wgList()); });
    await search('grp', WG, ['g1', 'g2', 'g3']);
    await page.getByTestId('list-select-page').check();
    await selected(3);
    /* another session deletes g2: the panel reads the list again (live event) */
    const login = await fetch(atlas.base + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: atlas.password }) }).then(r => r.json());
    const del = await fetch(`${atlas.base}/api/v1/wireguard/interfaces/${SEL_IFACE}/peers/g2`,
      { method: 'DELETE', headers: { Authorization: 'Bearer ' + login.token } });
    assert.ok(del.ok, 'DELETE g2: ' + del.status);
    await page.waitForFunction(s => [...document.querySelectorAll(s)].map(r => r.dataset.peer).join() === 'g1,g3', WG);
    await selected(2);
    await page.getByTestId('bulk-disable').click();
    await confirmDialog(page, /Disable 2 peers: g1, g3\?/);
    await page.getByTestId('wg-result').getByText('Disable 2 peers').waitFor();
    await page.getByTestId('wg-result').locator('.badge', { hasText: 'applied' }).waitFor({ timeout: 40000 });
    const off = await disabled();
    assert.ok(off.includes('g1') && off.includes('g3'), off.join());
    assert.equal(off.length, 52);
    await selected(0);
    await page.getByTestId('list-search').fill('');
  });

  it("the OpenVPN clients' list keeps the same rules", async () => {
    await go(page, 'openvpn');
    await page.locator('tr[data-client="c3"]').waitFor();
    await search('red', OV, ['c1', 'c2']);
    await page.getByTestId('list-select-page').check();
    await selected(2);
    await search('blue', OV, ['c3']);
    await selected(0);
    /* the dropped selection does not come back with the rows */
    await search('', OV, ['c1', 'c2', 'c3']);
    await selected(0);
    await tick('tr[data-client="c1"]');
    await tick('tr[data-client="c3"]');
    await selected(2);
    await page.getByTestId('bulk-disable').click();
    const box = page.getByTestId('confirm-dialog');
    await box.waitFor({ state: 'visible' });
    assert.match(await box.innerText(), /Disable 2 clients: c1, c3\? They are cut off/);
    await box.getByRole('button', { name: 'Cancel' }).click();
    await box.waitFor({ state: 'hidden' });
    await bar().getByRole('button', { name: 'Clear', exact: true }).click();
    await selected(0);
    assert.equal(await openDialog(page).count(), 0);
  });

  it('raised no page error, no CSP violation, no dialog; reached nothing else', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(browser.violations, []);
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(dialogs, []);
  });
});
