// screenshot.mjs URL OUT.png: opens guardian's dashboard in real headless Chromium
// (playwright-core, Debian's /usr/bin/chromium), waits until it is live and its charts hold
// data, and saves a full-page screenshot. For tests that want a picture of a run they drive.
import { chromium } from 'playwright-core';

import { chromiumArgs, waitFor } from './guardian_fixture.mjs';

const [url, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: chromiumArgs('').filter((a) => !a.startsWith('--user-data-dir')) });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  await page.goto(url);
  await page.waitForSelector('#connection.live', { timeout: 30000 });
  await waitFor('chart data', () => page.evaluate(() => window.guardianDashboard.state.time.length >= 5), 30000);
  await page.waitForTimeout(1500);  // the charts' next frame
  await page.screenshot({ path: out, fullPage: true });
  const servers = await page.evaluate(() => window.guardianDashboard.state.servers);
  console.log(JSON.stringify({ servers }));
} finally {
  await browser.close();
}
