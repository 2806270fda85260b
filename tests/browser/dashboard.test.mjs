// The dashboard in real headless Chromium against a real guardian run: no console errors,
// charts drawn from data, a raised alert on the page within 1 s, the disconnected state
// when guardian stops, and reconnection to the next guardian on the same port.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Guardian, chromiumArgs, freePort, waitFor } from './guardian_fixture.mjs';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: run scripts/install-deps.sh (npm ci in tests/browser)');
}

const artifacts = process.env.GUARDIAN_ARTIFACTS || path.join(os.tmpdir(), 'guardian-browser-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const token = 'browser-token';

let browser;
let guardian;
let port;
const consoleErrors = [];
let page;

before(async () => {
  port = await freePort();
  guardian = await new Guardian({ port, token }).start();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: chromiumArgs('').filter((a) => !a.startsWith('--user-data-dir')) });
  page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') consoleErrors.push(`${msg.type()}: ${msg.text()} (${msg.location().url})`); });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  await page.goto(`${guardian.base}/?token=${token}`);
});

after(async () => {
  if (browser) await browser.close();
  if (guardian) await guardian.stop();
});

// Non-transparent pixels in the chart's canvas (uPlot draws into one canvas per chart).
async function paintedPixels(id) {
  return page.evaluate((chartId) => {
    const canvas = document.querySelector(`#${chartId} canvas`);
    if (!canvas) return 0;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted += 1;
    return painted;
  }, id);
}

test('the page connects and loads with no console errors', async () => {
  await page.waitForSelector('#connection.live', { timeout: 30000 });
  assert.equal(await page.textContent('#connection'), 'live');
  await waitFor('the run line', async () => (await page.textContent('#run-command')) === 'sleep 600', 10000);
  assert.match(await page.textContent('#run-mode'), /mode dev/);
  assert.doesNotMatch(await page.textContent('#run-backend'), /\?/);
  assert.equal(await page.evaluate(() => document.body.dataset.missingAsset || ''), '', 'every asset is embedded');
  // A run without tests: the heaviest lists say so rather than stay blank.
  assert.equal(await page.textContent('#test-heaviest'), 'no test measured (yet)');
  assert.deepEqual(consoleErrors, []);
});

test('charts draw non-empty data', async () => {
  await waitFor('snapshots in the resources chart', () => page.evaluate(() => window.guardianDashboard.state.time.length >= 5), 30000);
  await waitFor('probe latencies', () => page.evaluate(() => {
    const l = window.guardianDashboard.state.latency.api;
    return l && l.ms.length >= 3;
  }), 30000);
  const series = await page.evaluate(() => {
    const { charts } = window.guardianDashboard;
    return {
      resources: charts['resources-chart'].data[2].filter((v) => v !== null).length,
      level: charts['level-chart'].data[1].length,
      latency: charts['latency-chart'] ? charts['latency-chart'].data[1].filter((v) => v !== null).length : 0,
    };
  });
  assert.ok(series.resources >= 5, `memory points drawn: ${JSON.stringify(series)}`);
  assert.ok(series.level >= 5, JSON.stringify(series));
  assert.ok(series.latency >= 3, JSON.stringify(series));
  for (const id of ['resources-chart', 'level-chart', 'latency-chart']) {
    assert.ok(await paintedPixels(id) > 500, `${id} has pixels drawn`);
  }
  assert.match(await page.textContent('#memory-now'), /%/);
  assert.equal(await page.textContent('#servers tbody tr[data-server="api"] td:nth-child(2)'), 'running');
  assert.deepEqual(consoleErrors, []);
});

test('an alert raised in guardian appears on the page within 1 s', async () => {
  // Record when the SERVER_DOWN entry is added to the DOM (page clock = guardian's clock).
  await page.evaluate(() => {
    window.alertSeenAt = null;
    new MutationObserver(() => {
      if (!window.alertSeenAt && document.querySelector('#alerts li[data-type="SERVER_DOWN"]')) window.alertSeenAt = Date.now();
    }).observe(document.getElementById('alerts'), { childList: true });
  });
  guardian.crashServer();
  await page.waitForSelector('#alerts li[data-type="SERVER_DOWN"].severity-critical', { timeout: 30000 });
  const { seenAt, raisedAt } = await page.evaluate(() => {
    const alert = window.guardianDashboard.state.alerts.find((a) => a.type === 'SERVER_DOWN');
    return { seenAt: window.alertSeenAt, raisedAt: Date.parse(alert.ts) };
  });
  const latencyMs = seenAt - raisedAt;
  console.log(`alert-to-DOM latency: ${latencyMs} ms`);
  assert.ok(latencyMs < 1000, `SERVER_DOWN raised at ${raisedAt}, on the page at ${seenAt} (${latencyMs} ms)`);
  // The recovery resolves it (greyed out) and counts a restart.
  await page.waitForSelector('#alerts li[data-type="SERVER_DOWN"].resolved', { timeout: 30000 });
  await waitFor('the restart in the servers table',
    async () => (await page.textContent('#servers tbody tr[data-server="api"] td:nth-child(3)')) === '1', 30000);
  assert.match(await page.textContent('#top-types'), /SERVER_DOWN: 1/);
  await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});

test('the disconnected state shows when guardian stops, and it reconnects to the next one', async () => {
  const firstRun = await page.evaluate(() => window.guardianDashboard.state.runId);
  await guardian.stop();
  await page.waitForSelector('#connection.disconnected', { timeout: 15000 });
  assert.match(await page.textContent('#connection'), /disconnected/);
  assert.equal(await page.evaluate(() => document.body.classList.contains('disconnected')), true);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-disconnected.png'), fullPage: true });
  // Failed reconnection attempts are the only console noise allowed while guardian is away.
  const beforeRestart = consoleErrors.length;
  guardian = await new Guardian({ port, token }).start();
  await page.waitForSelector('#connection.live', { timeout: 30000 });
  await waitFor('the new run', () => page.evaluate((old) => window.guardianDashboard.state.runId && window.guardianDashboard.state.runId !== old, firstRun), 15000);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#alerts li[data-type="SERVER_DOWN"]').length), 0,
    'the previous run\'s alerts are gone');
  const unexpected = consoleErrors.slice(0, beforeRestart).concat(consoleErrors.slice(beforeRestart))
    .filter((e) => !/WebSocket connection to|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
  assert.deepEqual(unexpected, []);
});
