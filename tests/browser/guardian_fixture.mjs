// Starts a real `guardian run` for the browser tests and benchmarks: fast monitor checks,
// the websocket plugin on a given port, a dev server ("api") that crashes on demand. The
// command is `sleep 600` unless given (`command`, run in `cwd` with `env` added); `server:
// false` leaves the dev server out.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what, condition, timeoutMs = 60000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class Guardian {
  constructor({ port, token = '', dir, extraToml = '', command = ['sleep', '600'], cwd, env = {}, server = true }) {
    this.port = port;
    this.token = token;
    this.dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'guardian-browser-'));
    this.extraToml = extraToml;
    this.trigger = path.join(this.dir, 'crash-trigger');
    this.command = command;
    this.cwd = cwd;
    this.extraEnv = env;
    this.withServer = server;
  }

  get base() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    const serverPort = await freePort();
    const fixtures = process.env.GUARDIAN_FIXTURES;
    let toml = '';
    for (const level of ['idle', 'normal', 'intensive', 'critical']) {
      toml += `[monitor.${level}]\ncheck_interval = "200ms"\nreport_interval = "1s"\n`;
    }
    toml += `[plugins.websocket]\nport = ${this.port}\nsnapshot_interval_ms = 100\n`;
    if (this.token) toml += `token = "${this.token}"\n`;
    if (this.withServer) {
      toml += `[servers.api]\ncommand = "/usr/bin/python3 ${fixtures}/flaky_server.py ${serverPort} ${this.trigger}"\n`;
      toml += `health = "http://127.0.0.1:${serverPort}/health"\nprobe_interval = "200ms"\n`;
      toml += 'restart_delay = "100ms"\n';
    }
    toml += this.extraToml;
    const config = path.join(this.dir, `guardian-${this.port}-${Date.now()}.toml`);
    fs.writeFileSync(config, toml);
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('GUARDIAN_')) delete env[key];
    // Our own CI runs with CI=true: this guardian must not think it runs in CI (mode test).
    for (const key of ['CI', 'GITHUB_ACTIONS', 'GITLAB_CI', 'GITHUB_STEP_SUMMARY']) delete env[key];
    Object.assign(env, this.extraEnv);
    this.output = '';
    this.child = spawn(process.env.GUARDIAN_BIN,
      ['--config', config, 'run', '--runs-dir', path.join(this.dir, 'runs'), '--', ...this.command],
      { env, cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => { this.output += d; });
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(this.withServer ? 'the dev server to be healthy' : 'the status API', async () => {
      try {
        const r = await fetch(`${this.base}/api/monitoring/status`, { headers: this.headers() });
        if (!r.ok) return false;
        const j = await r.json();
        return !this.withServer || (j.servers && j.servers.api && j.servers.api.healthy);
      } catch (e) {
        return false;
      }
    });
    return this;
  }

  headers() { return this.token ? { Authorization: `Bearer ${this.token}` } : {}; }

  async api(pathname) {
    const r = await fetch(`${this.base}${pathname}`, { headers: this.headers() });
    if (!r.ok) throw new Error(`${pathname}: HTTP ${r.status}`);
    return r.json();
  }

  crashServer() { fs.writeFileSync(this.trigger, 'crash\n'); }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

export function chromiumArgs(userDataDir) {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${userDataDir}`];
}

// Chromium on a live dashboard: launched, errors of the page collected into `consoleErrors`,
// opened with the token and connected. `chromium` is playwright-core's (the caller imports it).
export async function openLiveDashboard(chromium, guardian, token, consoleErrors) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: chromiumArgs('').filter((a) => !a.startsWith('--user-data-dir')) });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  await page.goto(`${guardian.base}/?token=${token}`);
  await page.waitForSelector('#connection.live', { timeout: 30000 });
  return { browser, page };
}
