/*
 * https.test.mjs - the panel over HTTPS on a non-loopback address, as on a
 * fresh VPS: the server makes its self-signed certificate, chromium trusts
 * exactly that certificate's public key (the fingerprint the admin would
 * compare), loads the panel with HSTS and signs in. A chromium that was not
 * told about the key must refuse the page.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { startAtlas, launch, shot, finish } from './harness.mjs';

const PORT = 18130;
const DEV = 'atutls0'; /* a veth pair in the test's namespace: a non-loopback address */
const HOST = '10.252.13.1';

let atlas, browser, page;

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

describe('panel over HTTPS with the self-signed certificate', { timeout: 120000 }, () => {
  before(async () => {
    spawnSync('ip', ['link', 'del', DEV], { stdio: 'ignore' });
    ip('link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'atutls1');
    /*
     * No IPv6 on the pair: its link-local addresses would finish their
     * duplicate detection a second or two after the link comes up, and
     * chromium, which watches the addresses, then aborts a page load in
     * flight with ERR_NETWORK_CHANGED (seen once in a clean run).
     */
    for (const d of [DEV, 'atutls1'])
      writeFileSync(`/proc/sys/net/ipv6/conf/${d}/disable_ipv6`, '1');
    ip('link', 'set', 'atutls1', 'up');
    ip('addr', 'add', HOST + '/24', 'dev', DEV);
    ip('link', 'set', DEV, 'up');
    atlas = await startAtlas({ port: PORT, host: HOST });
  });
  after(async () => {
    await finish(browser, atlas, 'https-server.log');
    spawnSync('ip', ['link', 'del', DEV], { stdio: 'ignore' });
  });

  it('prints the fingerprint of the certificate it serves', () => {
    const cert = new X509Certificate(readFileSync(join(atlas.data, 'tls', 'cert.pem')));
    const m = atlas.log().match(/TLS certificate SHA-256 fingerprint (\S+)/);
    assert.ok(m, 'fingerprint printed:\n' + atlas.log());
    assert.equal(m[1], cert.fingerprint256);
  });

  it('a browser not told about the certificate refuses the page', async () => {
    const b = await launch(atlas.base);
    try {
      await assert.rejects(b.page.goto(atlas.base + '/'), /ERR_CERT_AUTHORITY_INVALID|ERR_CERT/);
    } finally {
      await b.close();
    }
  });

  it('logs in over HTTPS trusting the certificate by its key', async () => {
    const cert = new X509Certificate(readFileSync(join(atlas.data, 'tls', 'cert.pem')));
    const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    browser = await launch(atlas.base, [`--ignore-certificate-errors-spki-list=${spki}`]);
    page = browser.page;
    page.setDefaultTimeout(20000);
    const doc = await page.goto(atlas.base + '/', { waitUntil: 'networkidle' });
    const h = await doc.allHeaders();
    assert.equal(h['strict-transport-security'], 'max-age=31536000');
    const sec = await doc.securityDetails();
    assert.ok(sec, 'the page came over TLS');
    assert.match(sec.protocol, /^TLS 1\.[23]$/);
    await page.locator('[data-view="login"]').waitFor({ state: 'visible' });
    await page.locator('#login-pass').fill(atlas.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view="dashboard"]').waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).protocol, 'https:');
    await shot(page, 'https-dashboard');
  });
});
