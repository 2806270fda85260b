// The tests panel's heaviest lists in real headless Chromium against a real `guardian run` of
// a small pytest suite (fixtures/test_costs.py): while the run is still going, the list by
// resident peak starts with the test that touched 150 MiB and shows a plausible size, and the
// list by CPU time starts with the test that spun; both are still right after run_finished.
// A full-page screenshot is saved (its path is printed) to look at the layout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { Guardian, freePort, openLiveDashboard, waitFor } from './guardian_fixture.mjs';

const { chromium } = await import('playwright-core');

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.GUARDIAN_ARTIFACTS || path.join(os.tmpdir(), 'guardian-browser-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const token = 'heaviest-token';
const MiB = 1024 * 1024;

let browser;
let guardian;
let page;
let release;
const consoleErrors = [];

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardian-heaviest-'));
  release = path.join(dir, 'release');
  guardian = await new Guardian({
    port: await freePort(), token, dir, server: false,
    command: ['/usr/bin/python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_costs.py'],
    cwd: path.join(here, 'fixtures'),
    env: { COSTS_RELEASE_FILE: release, PYTHONDONTWRITEBYTECODE: '1' },
  }).start();
  ({ browser, page } = await openLiveDashboard(chromium, guardian, token, consoleErrors));
});

after(async () => {
  if (release) fs.writeFileSync(release, 'done\n');
  if (browser) await browser.close();
  if (guardian) await guardian.stop();
});

// The measured entries of a list as the page shows them: [{nodeid, cost}], top first.
const shown = (id) => page.evaluate((listId) => [...document.querySelectorAll(`#${listId} li[data-nodeid]`)]
  .map((li) => ({ nodeid: li.dataset.nodeid, cost: li.querySelector('.cost').textContent })), id);

// "312.4 MiB peak · 40 ms CPU" -> bytes of the peak.
function peakBytes(cost) {
  const m = /([\d.]+) (B|KiB|MiB|GiB) peak/.exec(cost);
  assert.ok(m, `a peak in "${cost}"`);
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[m[2]];
}

test('while the run goes on, the heaviest list starts with the test that touched 150 MiB', async () => {
  // Four tests finished, the fifth holds the run open: the lists come from the live path.
  await waitFor('four measured tests on the page', async () => (await shown('test-heaviest')).length >= 4, 60000);
  assert.equal(guardian.child.exitCode, null, 'guardian is still running');
  assert.notEqual(await page.evaluate(() => window.guardianDashboard.state.state), 'finished');

  const heaviest = await shown('test-heaviest');
  console.log(`heaviest: ${JSON.stringify(heaviest)}`);
  assert.equal(heaviest[0].nodeid, 'test_costs.py::test_heavy_memory');
  const peak = peakBytes(heaviest[0].cost);
  // 150 MiB touched on top of the interpreter's own resident set (tens of MiB).
  assert.ok(peak >= 150 * MiB && peak < 1024 * MiB, `peak of the heavy test: ${heaviest[0].cost}`);
  assert.ok(peakBytes(heaviest[1].cost) < peak - 100 * MiB, `the next one is far lighter: ${heaviest[1].cost}`);
  assert.match(heaviest[0].cost, /^≈?[\d.]+ MiB peak · \d+(\.\d+)? m?s CPU$/);

  const byCpu = await shown('test-heaviest-cpu');
  console.log(`heaviest CPU: ${JSON.stringify(byCpu)}`);
  assert.equal(byCpu[0].nodeid, 'test_costs.py::test_spins_cpu');
  assert.match(byCpu[0].cost, /^\d\.\d\d s CPU · /);
  assert.match(await page.textContent('#tests-summary'), /^4 tests · 4 passed · 0 failed/);

  // The status API (what the page loads on connecting) has the same list, in its schema.
  const request = [{ url: `${guardian.base}/api/monitoring/status`, auth: `Bearer ${token}`, schema: 'status.schema.json' }];
  const [answer] = JSON.parse(execFileSync('/usr/bin/python3', [path.join(process.env.GUARDIAN_FIXTURES, 'http_fetch.py'),
    JSON.stringify(request), path.join(here, '..', 'plugins', 'schemas')]).toString());
  assert.deepEqual(answer.schema_errors, [], answer.body);
  assert.equal(JSON.parse(answer.body).tests.heaviest[0].nodeid, 'test_costs.py::test_heavy_memory');

  const screenshot = path.join(artifacts, 'dashboard-heaviest.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(consoleErrors, []);
});

test('after the run the lists are the report\'s: all five tests, the same order', async () => {
  fs.writeFileSync(release, 'done\n');
  const { code } = await guardian.exited;
  assert.equal(code, 0, guardian.output);
  await waitFor('the run finished on the page', () => page.evaluate(() => window.guardianDashboard.state.state === 'finished'), 10000);
  assert.match(await page.textContent('#tests-summary'), /^5 tests · 5 passed · 0 failed/);
  const heaviest = await shown('test-heaviest');
  assert.equal(heaviest.length, 5);
  assert.equal(heaviest[0].nodeid, 'test_costs.py::test_heavy_memory');
  assert.equal((await shown('test-heaviest-cpu'))[0].nodeid, 'test_costs.py::test_spins_cpu');
  // guardian has ended: the page's attempts to reconnect are refused, and Chromium says so.
  assert.deepEqual(consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)), []);
});
