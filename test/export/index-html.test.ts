import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { exportYear, seedSignOffs, seedYear, zipEntries } from './export-fixture.ts';

let env: TestEnvironment;
let browser: Browser;
let work: string;
let indexUrl: string;
/** The same year exported with the example config and two register sign-offs. */
let viewsUrl: string;

/** Unzips as an auditor would, so the page's links to evidence files resolve; returns index.html's URL. */
async function unzip(zip: string, site: string): Promise<string> {
  for (const [name, bytes] of await zipEntries(zip)) {
    await mkdir(dirname(join(site, name)), { recursive: true });
    await writeFile(join(site, name), bytes);
  }
  return pathToFileURL(join(site, 'index.html')).href;
}

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-index-'));
  await seedYear(env);
  const zip = join(work, 'year.zip');
  await exportYear(env, zip);
  indexUrl = await unzip(zip, join(work, 'site'));
  const config = await loadConfig('soc2-evidence.yaml');
  await seedSignOffs(env, config);
  const withViews = join(work, 'views.zip');
  await exportYear(env, withViews, { config });
  viewsUrl = await unzip(withViews, join(work, 'views'));
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

describe('the audit views of index.html in headless Chromium (export with the example config)', () => {
  it('shows R2 in the inherent cell (4,4) and R1 in (3,5), counted and coloured by the threshold', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(viewsUrl);
    const cell = (map: string, likelihood: number, impact: number) =>
      page.locator(
        `#risk-heat-map td.heat-cell[data-map="${map}"][data-likelihood="${likelihood}"][data-impact="${impact}"]`,
      );
    expect(await cell('inherent', 4, 4).innerText()).toMatch(/^1\s+R2$/);
    expect(await cell('inherent', 3, 5).innerText()).toMatch(/^1\s+R1$/);
    expect(await cell('inherent', 4, 4).getAttribute('data-risk-ids')).toBe('R2');
    expect(await cell('inherent', 3, 5).getAttribute('data-risk-ids')).toBe('R1');
    // R1 and R2 sit nowhere else on the inherent map.
    const others = await page
      .locator('#risk-heat-map td.heat-cell[data-map="inherent"]')
      .evaluateAll((cells) =>
        cells
          .filter((c) => /\bR[12]\b/.test(c.getAttribute('data-risk-ids') ?? ''))
          .map((c) => `${c.getAttribute('data-likelihood')},${c.getAttribute('data-impact')}`),
      );
    expect(others.sort()).toEqual(['3,5', '4,4']);
    expect(await page.locator('#risk-heat-map td.heat-cell').count()).toBe(50);
    const background = (likelihood: number, impact: number) =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector('#risk-heat-map td.heat-cell[data-map="inherent"][data-likelihood="${likelihood}"][data-impact="${impact}"]')).backgroundColor`,
      );
    expect(await background(4, 4)).toBe('rgb(244, 199, 195)'); // 16 >= 12: at or above the threshold
    expect(await background(1, 5)).toBe('rgb(217, 234, 211)'); // 5: below
    expect(await page.locator('#risk-heat-map table[data-map="residual"]').count()).toBe(1);
    expect(requests).toHaveLength(1);
    await page.close();
  });

  it('lists the criteria without evidence in the criteria view next to the control matrix', async () => {
    const page = await browser.newPage();
    await page.goto(viewsUrl);
    const state = (id: string) =>
      page.locator(`#criteria-coverage tr[data-criterion="${id}"]`).getAttribute('data-state');
    expect(await state('CC6.1')).toBe('passing');
    expect(await state('CC1.1')).toBe('not-evidenced');
    expect(await page.locator('#criteria-not-evidenced').innerText()).toMatch(
      /^Not evidenced \(in scope, nothing at all\): CC1\.1, .*CC2\.1/,
    );
    expect(await page.locator('#criteria-coverage tr[data-state="not-evidenced"]').count()).toBeGreaterThan(
      5,
    );
    // The view sits right after the matrices, before the details, and the contents line links to it.
    const order = await page.evaluate<string[]>(
      `[...document.querySelectorAll('section[id], h2#details')].map((e) => e.id).filter((id) => !id.startsWith('control-'))`,
    );
    expect(order).toEqual([
      'cadence-monthly',
      'cadence-quarterly',
      'criteria-coverage',
      'readiness',
      'risk-heat-map',
      'sign-offs',
      'details',
    ]);
    await page.click('#contents a[href="#criteria-coverage"]');
    expect(new URL(page.url()).hash).toBe('#criteria-coverage');
    await page.close();
  });

  it('shows each readiness item with its computed status and reason', async () => {
    const page = await browser.newPage();
    await page.goto(viewsUrl);
    const access = page.locator('#readiness li.item[data-item="access-reviews"]');
    expect(await access.getAttribute('data-status')).toBe('not-ready');
    expect(await access.locator('.status').innerText()).toBe('not ready');
    expect(await access.innerText()).toMatch(/2026-Q2: no passing verdict; access-review failed 2026-Q2/);
    expect(
      await page.evaluate<string>(
        `getComputedStyle(document.querySelector('#readiness li.item[data-item="access-reviews"] .status')).backgroundColor`,
      ),
    ).toBe('rgb(207, 34, 46)');
    const statuses = await page
      .locator('#readiness li.item')
      .evaluateAll((items) => items.map((i) => i.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(5);
    expect(new Set(statuses)).toEqual(new Set(['not-ready', 'unknown']));
    expect(await page.locator('#readiness-headline').innerText()).toMatch(
      new RegExp(`^${statuses.length} items: 0 ready, \\d+ not ready, \\d+ unknown\\.$`),
    );
    await page.close();
  });

  it('shows each sign-off: who, role, when, register hash and what changed', async () => {
    const page = await browser.newPage();
    await page.goto(viewsUrl);
    const rows = page.locator('#sign-offs tr.sign-off');
    expect(await rows.count()).toBe(2);
    const second = rows.nth(1);
    expect(await second.locator('td.by').innerText()).toBe('Sam Ortiz');
    expect(await second.locator('td.role').innerText()).toBe('Security Officer');
    expect(await second.locator('td.when').innerText()).toBe('2026-11-20T15:30:00.000Z');
    expect(await second.locator('td.hash').innerText()).toMatch(/^registerSha256 [0-9a-f]{64}$/);
    expect(await second.locator('td.changes').innerText()).toMatch(
      /R2 likelihood: 3 → 4\s+Note: Quarterly full re-score/,
    );
    const evidence = await second.locator('a').first().getAttribute('href');
    expect(existsSync(new URL(evidence ?? '', viewsUrl))).toBe(true);
    await page.close();
  });
});
