import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { exportYear, seedYear, zipEntries } from './export-fixture.ts';

let env: TestEnvironment;
let browser: Browser;
let work: string;
let indexUrl: string;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-index-'));
  await seedYear(env);
  const zip = join(work, 'year.zip');
  await exportYear(env, zip);
  // Unzipped as an auditor would, so the page's links to evidence files resolve.
  const site = join(work, 'site');
  for (const [name, bytes] of await zipEntries(zip)) {
    await mkdir(dirname(join(site, name)), { recursive: true });
    await writeFile(join(site, name), bytes);
  }
  indexUrl = pathToFileURL(join(site, 'index.html')).href;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('index.html in headless Chromium', () => {
  it('shows the control x period matrix with the right verdict counts, using nothing but the file itself', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(indexUrl);

    const count = (verdict: string) =>
      page.locator(`table.matrix td.cell[data-verdict="${verdict}"]`).count();
    const cells = {
      pass: await count('pass'),
      fail: await count('fail'),
      error: await count('error'),
      missing: await count('missing'),
    };
    expect(cells).toEqual({ pass: 11, fail: 2, error: 1, missing: 2 });
    const tiles: Record<string, string | null> = {};
    for (const tile of await page.locator('.tile').all()) {
      tiles[(await tile.getAttribute('data-status')) ?? ''] = await tile.locator('.count').textContent();
    }
    expect(tiles).toEqual({ pass: '11', fail: '2', error: '1', missing: '2' });
    expect(await page.textContent('#headline')).toContain(
      '2 control(s), 16 control-period(s): 11 passed, 2 failed, 1 could not be checked, 2 without evidence.',
    );
    expect(await page.locator('table.matrix tbody tr th.control a').allTextContents()).toEqual([
      'audit-log',
      'access-review',
    ]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    expect(requests).toHaveLength(1);
    await page.close();
  });

  it('colours cells by verdict so failures stand out at a glance', async () => {
    const page = await browser.newPage();
    await page.goto(indexUrl);
    const colour = (selector: string) =>
      page.evaluate<string>(`getComputedStyle(document.querySelector('${selector}')).backgroundColor`);
    expect(await colour('td.cell[data-verdict="pass"]')).toBe('rgb(26, 127, 55)');
    expect(await colour('td.cell[data-verdict="fail"]')).toBe('rgb(207, 34, 46)');
    expect(await colour('td.cell[data-verdict="error"]')).toBe('rgb(154, 103, 0)');
    await page.close();
  });

  it('links each cell to its period: verdict, reasons, figures and the evidence files', async () => {
    const page = await browser.newPage();
    await page.goto(indexUrl);
    const june = 'td.cell[data-control="audit-log"][data-period="2026-06"]';
    expect(await page.getAttribute(`${june} a`, 'title')).toMatch(
      /audit-log 2026-06: failed\naudit log silent for 4.5 hours\nevents: /,
    );
    expect(await page.textContent(june)).toMatch(/longestSilenceMinutes: 270/);
    await page.click(`${june} a`);
    expect(new URL(page.url()).hash).toBe('#p-audit-log-2026-06');
    const detail = page.locator('#p-audit-log-2026-06');
    expect(await detail.isVisible()).toBe(true);
    expect(await detail.textContent()).toMatch(
      /failed.*2026-06.*audit log silent for 4\.5 hours.*longestSilenceMinutes.*270/s,
    );
    const hrefs = await Promise.all(
      (await detail.locator('a').all()).map((link) => link.getAttribute('href')),
    );
    expect(hrefs.map((href) => href?.split('/').pop())).toEqual([
      'result.json',
      'manifest.json',
      'manifest.sig',
    ]);
    for (const href of hrefs) expect(existsSync(new URL(href ?? '', indexUrl))).toBe(true);
    expect(await page.locator('#p-audit-log-2026-12').textContent()).toContain(
      'No manifest was recorded for this period',
    );
    await page.close();
  });
});
