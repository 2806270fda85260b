// The dashboard opened after a minute of a busy run (monitor checks every 200 ms, a snapshot
// every 100 ms, the server probed every 200 ms): the charts span the whole run — the history
// from the status API is merged with the live snapshots that arrive before it — and the
// uptime of a server that never failed is 100 %, now and after more live probes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Guardian, freePort, openLiveDashboard, sleep, waitFor } from './guardian_fixture.mjs';

const { chromium } = await import('playwright-core');

const artifacts = process.env.GUARDIAN_ARTIFACTS || path.join(os.tmpdir(), 'guardian-browser-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const token = 'history-token';
const RUN_SECONDS = 62;

let browser;
let guardian;
let page;
const consoleErrors = [];

before(async () => {
  guardian = await new Guardian({ port: await freePort(), token }).start();
  await sleep(RUN_SECONDS * 1000);
  ({ browser, page } = await openLiveDashboard(chromium, guardian, token, consoleErrors));
});

after(async () => {
  if (browser) await browser.close();
  if (guardian) await guardian.stop();
});

const span = () => page.evaluate(() => {
  const { state, charts } = window.guardianDashboard;
  const x = charts['resources-chart'].scales.x;
  const latency = state.latency.api || { time: [] };
  return {
    startedAt: state.startedAt,
    first: state.time[0], last: state.time[state.time.length - 1], points: state.time.length,
    latencyFirst: latency.time[0], latencyLast: latency.time[latency.time.length - 1],
    xMin: x.min, xMax: x.max,
  };
});

test('opened after a minute, the charts span the run', async () => {
  await waitFor('the history', async () => (await span()).points >= 100, 30000);
  await sleep(1000);  // more live snapshots on top of the history
  const s = await span();
  const run = s.last - s.startedAt;
  assert.ok(run >= RUN_SECONDS - 2, `the run is ${run} s old: ${JSON.stringify(s)}`);
  assert.ok(s.first - s.startedAt < 5, `the resources chart starts with the run: ${JSON.stringify(s)}`);
  assert.ok(s.xMin <= s.first && s.xMin >= s.startedAt - 1, `the time axis starts at the run's start: ${JSON.stringify(s)}`);
  assert.ok(s.xMax - s.xMin >= RUN_SECONDS - 2 && s.xMax - s.xMin < RUN_SECONDS + 60,
    `the time axis spans the run, no more: ${JSON.stringify(s)}`);
  assert.ok(s.latencyLast - s.latencyFirst >= RUN_SECONDS - 5, `the latency chart spans the run: ${JSON.stringify(s)}`);
  const sorted = await page.evaluate(() => window.guardianDashboard.state.time.every((t, i, a) => i === 0 || a[i - 1] < t));
  assert.ok(sorted, 'points in time order');
});

test('a server that never failed shows 100 % uptime, before and after more live probes', async () => {
  const cell = '#servers tbody tr[data-server="api"] td:nth-child(4)';
  await waitFor('the uptime', async () => (await page.textContent(cell)) !== '–', 10000);
  assert.equal(await page.textContent(cell), '100.0 %');
  await sleep(3000);  // ~15 live probes
  assert.equal(await page.textContent(cell), '100.0 %');
  const api = await guardian.api('/api/monitoring/status');
  assert.equal(api.servers.api.uptime_percent, 100, JSON.stringify(api.servers.api));
  assert.equal(await page.textContent('#servers tbody tr[data-server="api"] td:nth-child(3)'), '0');
  await page.screenshot({ path: path.join(artifacts, 'dashboard-after-a-minute.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});
