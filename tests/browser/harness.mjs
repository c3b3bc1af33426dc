/*
 * harness.mjs - what the browser tests share: a real `atlas serve` on a
 * throwaway data directory, Debian's chromium driven by playwright-core with
 * every request not to that server aborted, screenshots, and cleanup of the
 * engines the test made (interface atu*, daemons started in direct mode).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readdirSync, readFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
export const SHOTS = join(ARTIFACTS, 'screenshots');

const ATLAS = process.env.ATLAS_BIN || join(ROOT, 'build', 'atlas');

export const sleep = ms => new Promise(r => setTimeout(r, ms));

function run(args, input) {
  const r = spawnSync(ATLAS, args, { input, encoding: 'utf8', timeout: 60000 });
  if (r.error) throw new Error(`atlas ${args.join(' ')}: ${r.error.message}`);
  return r;
}

/* Starts `atlas serve` on 127.0.0.1:port in a fresh data directory, after
 * importing yaml into it when given (else the directory stays empty, as for a
 * first-time user). Resolves {base, password, data, proc, log, stop()}.
 * host: listen there instead (not loopback: the server then makes its
 * self-signed certificate and base is https://). */
export async function startAtlas({ port, yaml, iface, host }) {
  const data = mkdtempSync(join(tmpdir(), 'atlas-browser-'));
  try {
    return await startIn(data, { port, yaml, iface, host });
  } catch (e) {
    await cleanupEngines(data, iface);
    rmSync(data, { recursive: true, force: true });
    throw e;
  }
}

async function startIn(data, { port, yaml, iface, host = '127.0.0.1' }) {
  const tls = host !== '127.0.0.1';
  if (yaml) {
    const file = join(data, 'seed.yaml');
    writeFileSync(file, yaml);
    const imp = run(['--data', data, 'import', file]);
    if (imp.status !== 0) throw new Error(`atlas import failed (${imp.status}): ${imp.stderr}${imp.stdout}`);
  }

  /* Probe: nothing may already listen on our port. */
  try {
    await fetch(`http://${host}:${port}/api/v1/health`, { signal: AbortSignal.timeout(500) });
    throw new Error(`port ${port} is already in use`);
  } catch (e) {
    if (/already in use/.test(e.message)) throw e;
  }

  /* ATLAS_LOG=debug: the loop logs every finished run (waitLoopRun). */
  const env = { ...process.env, ATLAS_SERVICE_MODE: 'direct', ATLAS_LOG: 'debug' };
  const proc = spawn(ATLAS, ['--data', data, 'serve', '--listen', `${host}:${port}`],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', d => { log += d; });
  proc.stderr.on('data', d => { log += d; });
  let exited = null;
  proc.on('exit', (code, sig) => { exited = { code, sig }; });

  const base = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (exited) throw new Error(`atlas serve exited (${JSON.stringify(exited)}):\n${log}`);
    /* Over TLS, node's fetch would refuse the self-signed certificate: the log says when it listens. */
    if (tls && /serving on https:/.test(log)) break;
    try {
      const r = tls ? { ok: false } : await fetch(base + '/api/v1/health');
      if (r.ok) break;
    } catch (e) { /* not up yet */ }
    if (Date.now() - t0 > 15000) { proc.kill('SIGKILL'); throw new Error(`atlas serve did not answer /health in 15 s:\n${log}`); }
    await sleep(100);
  }
  /* The first start writes the generated admin password to a 0600 file. */
  let password = null;
  for (let i = 0; i < 50 && !password; i++) {
    if (/first start: created user "admin"/.test(log)) {
      try { password = readFileSync(`${data}/initial-admin-password`, 'utf8').trim(); } catch (e) { /* not yet */ }
    }
    if (!password) await sleep(100);
  }
  if (!password) { proc.kill('SIGKILL'); throw new Error(`no admin password in the output of atlas serve:\n${log}`); }

  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) proc.kill('SIGKILL');
    }
    await cleanupEngines(data, iface);
    /* the engines' own logs outlive the data directory, for a failure's sake */
    for (const [f, name] of [['openvpn/openvpn.log', 'openvpn'], ['singbox/sing-box.log', 'sing-box']]) {
      try { copyFileSync(join(data, f), join(ARTIFACTS, `${name}-${port}.log`)); } catch (e) { /* none */ }
    }
    rmSync(data, { recursive: true, force: true });
  };
  return { base, password, data, proc, stop, log: () => log };
}

/* Ends the daemons that atlas started in direct mode for this data
 * directory (they outlive `atlas serve` by design): the pids in its pid files
 * and any process whose command line names the directory; then removes the
 * test's WireGuard interfaces (iface: a name or a list; that ends their
 * wireguard-go). */
/* How many loop runs with trigger have finished (recorded or not), from the server's log. */
export function loopRuns(atlas, trigger) {
  return atlas.log().split('\n').filter(l => l.endsWith(`loop: ${trigger} run finished`)).length;
}

/* Waits until more than `after` such runs finished: the event that proves the
 * loop ran before a test asserts that nothing happened. */
export async function waitLoopRun(atlas, trigger, after, timeout = 30000) {
  const t0 = Date.now();
  while (loopRuns(atlas, trigger) <= after) {
    if (Date.now() - t0 > timeout) throw new Error(`no "${trigger}" loop run finished in ${timeout} ms`);
    await new Promise(r => setTimeout(r, 20));
  }
}

export async function cleanupEngines(data, iface) {
  const pids = new Set();
  const walk = dir => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pid')) {
        const pid = parseInt(readFileSync(p, 'utf8'), 10);
        if (pid > 1) pids.add(pid);
      }
    }
  };
  walk(data);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(data + '/')) pids.add(Number(d));
    } catch (e) { /* gone */ }
  }
  const alive = pid => { try { process.kill(pid, 0); return true; } catch (e) { return false; } };
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch (e) { /* gone */ } }
  for (let i = 0; i < 50 && [...pids].some(alive); i++) await sleep(100);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ } }
  for (const name of [].concat(iface || [])) {
    if (!/^at[uv][a-z0-9]*$/.test(name)) continue;	/* only the tests' own names */
    spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
    rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
  }
}

/* Closes any modal a failed step left open over the next one. */
export async function closeModals(page) {
  if (page) await page.evaluate(() => document.querySelectorAll('dialog[open]').forEach(d => d.close())).catch(() => {});
}

/* Closes the browser, keeps the server's log as an artifact, stops it. */
export async function finish(browser, atlas, logName) {
  if (browser) await browser.close();
  if (atlas) {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, logName), atlas.log());
    await atlas.stop();
  }
}

/* The Content-Security-Policy the server must send with the panel's HTML:
 * no inline script or style, nothing from elsewhere. Alpine.js evaluates its
 * expressions, hence 'unsafe-eval'. The tests check the header is there and
 * that the page runs under it without a single violation. */
export const CSP = "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; " +
  "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* Launches Debian's chromium with a fresh profile. Every request that is not
 * to `base` is aborted and recorded in `blocked`. Every CSP violation the
 * page meets is recorded in `violations`. */
export async function launch(base, extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'atlas-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
  const blocked = [];
  const violations = [];
  await context.route('**/*', async route => {
    const url = route.request().url();
    if (!url.startsWith(base + '/')) {
      blocked.push(url);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  /* The browser reports each violation as a DOM event (besides a console
   * message): the binding hands it to the test. */
  await context.exposeBinding('atlasCspViolation', (src, v) => { violations.push(v); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', e => {
      window.atlasCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = context.pages()[0] || await context.newPage();
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, blocked, violations, close };
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

/* Fails when the page is wider than its viewport (sideways scrolling on a phone). */
export async function noOverflow(page, what) {
  const [w, vw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(w <= vw, `${what}: the page is ${w} px wide at a ${vw} px viewport`);
}

/* Polls fn (sync or async) every 200 ms until it returns true; fails the
 * test naming `what` when it has not after ms. */
export async function waitFor(what, fn, ms = 30000) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) assert.fail('timed out waiting for ' + what);
    await sleep(200);
  }
}

/* Shows a view of the panel (#/view, or #/user/NAME) and waits until it is
 * visible and its data has loaded. The view shown already loads again: the
 * panel's go() does that, as setting the same hash fires no hashchange. */
export async function go(page, view) {
  const name = view.split('/')[0];
  await page.evaluate(v => Alpine.$data(document.body).go(v), view);
  await page.locator(`[data-view="${name}"]`).waitFor({ state: 'visible' });
  await page.locator(`main[data-loaded="${name}"]`).waitFor({ state: 'attached' });
}

/* The open modal <dialog> (labels repeat across dialogs: look inside it). */
export function openDialog(page) {
  return page.locator('dialog[open]');
}

/* Checks the confirmation <dialog> says expectText (when given), clicks its
 * OK button and waits for it to close. */
export async function confirmDialog(page, expectText) {
  const box = page.getByTestId('confirm-dialog');
  await box.waitFor({ state: 'visible' });
  if (expectText) assert.match(await box.innerText(), expectText);
  await page.getByTestId('confirm-ok').click();
  await box.waitFor({ state: 'hidden' });
}
