// Alert-to-DOM latency of the dashboard, against a baseline measured in the same page:
// a bare WebSocket client's receipt of the same alert event. A real guardian run whose dev
// server is crashed ROUNDS times (SERVER_DOWN each time); headless Chromium from Debian.
// Prints each round and the medians; asserts nothing.
//
// usage: GUARDIAN_BIN=<build>/bin/guardian GUARDIAN_FIXTURES=tests/plugins/fixtures \
//        node bench/status_dashboard/dashboard_latency.mjs [ROUNDS]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const browserTests = path.join(here, '../../tests/browser');
const { chromium } = createRequire(path.join(browserTests, 'package.json'))('playwright-core');
const { Guardian, chromiumArgs, freePort, waitFor } = await import(path.join(browserTests, 'guardian_fixture.mjs'));

const rounds = Number(process.argv[2] || 8);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

// extraToml lands in [servers.api]: no circuit breaker for a server crashed on purpose.
const guardian = await new Guardian({ port: await freePort(), extraToml: 'breaker_failures = 1000\nbackoff_cap = "200ms"\n' }).start();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: chromiumArgs('').filter((a) => !a.startsWith('--user-data-dir')) });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  await page.goto(`${guardian.base}/`);
  await page.waitForSelector('#connection.live');
  await page.evaluate((wsUrl) => {
    window.bench = { ws: {}, dom: {} };
    const raw = new WebSocket(wsUrl);  // the baseline: the event's arrival, nothing rendered
    raw.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.kind === 'alert' && e.alert.type === 'SERVER_DOWN') window.bench.ws[e.alert.id] = Date.now();
    };
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#alerts li[data-type="SERVER_DOWN"]')) {
        const id = li.dataset.alertId;
        if (!window.bench.dom[id]) window.bench.dom[id] = Date.now();
      }
    }).observe(document.getElementById('alerts'), { childList: true });
  }, `ws://127.0.0.1:${guardian.port}/ws`);
  const ws = [];
  const dom = [];
  for (let round = 1; round <= rounds; round += 1) {
    const before = await page.evaluate(() => Object.keys(window.bench.dom).length);
    guardian.crashServer();
    await waitFor('SERVER_DOWN on the page', () => page.evaluate((n) => Object.keys(window.bench.dom).length > n, before), 30000);
    const r = await page.evaluate(() => {
      const a = window.guardianDashboard.state.alerts.find((x) => x.type === 'SERVER_DOWN');
      return { raised: Date.parse(a.ts), ws: window.bench.ws[a.id], dom: window.bench.dom[a.id] };
    });
    ws.push(r.ws - r.raised);
    dom.push(r.dom - r.raised);
    console.log(`round ${round}: raised → WebSocket ${r.ws - r.raised} ms, raised → DOM ${r.dom - r.raised} ms`);
    if (round < rounds) await waitFor('the server back', async () => (await guardian.api('/api/monitoring/status')).servers.api.healthy, 30000);
  }
  const m = median(dom);
  const b = median(ws);
  console.log(`median raised → DOM ${m} ms; baseline raised → bare WebSocket client ${b} ms; DOM/baseline ${(b ? m / b : NaN).toFixed(2)}; DOM − baseline ${m - b} ms`);
} finally {
  await browser.close();
  await guardian.stop();
}
