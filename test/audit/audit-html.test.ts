import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criteriaCoverage } from '../../lib/audit/criteria-coverage.ts';
import { renderCriteriaCoverageHtml } from '../../lib/audit/criteria-coverage-html.ts';
import { computeReadiness } from '../../lib/audit/readiness.ts';
import { renderReadinessHtml } from '../../lib/audit/readiness-html.ts';
import { config, QUARTERS, verdict, WINDOW } from './fixtures.ts';

let browser: Browser;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-audit-html-'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The fragment inside a bare page, as index.html would hold it; every request is recorded. */
async function open(name: string, fragment: string): Promise<{ page: Page; requests: string[] }> {
  const file = join(work, `${name}.html`);
  await writeFile(
    file,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${fragment}</body></html>`,
  );
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);
  return { page, requests };
}

const hostile = '<img src=x onerror="window.pwned=1">';

describe('audit HTML fragments in headless Chromium', () => {
  it('the criteria view shows every criterion with its state, escapes hostile text and makes no requests', async () => {
    const model = criteriaCoverage({
      config: config({ criteria: { items: [{ id: 'CC6.4', title: `Physical ${hostile}` }] } }),
      window: WINDOW,
      verdicts: [
        ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
        verdict('audit-log', 'monthly', '2026-11', 'fail'),
      ],
    });
    const { page, requests } = await open('coverage', renderCriteriaCoverageHtml(model));
    const rows = page.locator('#criteria-coverage tr.criterion');
    expect(await rows.count()).toBe(44);
    const state = (id: string) => page.getAttribute(`tr[data-criterion="${id}"]`, 'data-state');
    expect(await state('CC6.1')).toBe('passing');
    expect(await state('CC4.1')).toBe('failing');
    expect(await state('CC1.1')).toBe('not-evidenced');
    expect(await state('C1.1')).toBe('risk-register-only');
    expect(await page.locator('tr[data-scope="planned"]').count()).toBe(4);
    expect(await page.textContent('tr[data-criterion="CC6.4"] td')).toBe(`Physical ${hostile}`);
    expect(await page.locator('#criteria-coverage img').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    // The failing state is coloured, not just labelled.
    const colour = await page.evaluate(
      `getComputedStyle(document.querySelector('tr[data-criterion="CC4.1"] .state')).backgroundColor`,
    );
    expect(colour).toBe('rgb(207, 34, 46)');
    expect(await page.textContent('#criteria-headline')).toContain(
      '44 criteria, 40 in scope: 2 passing, 2 failing, 3 not checked',
    );
    expect(await page.textContent('tr[data-criterion="CC6.1"] li[data-control="access-review"]')).toContain(
      'pass 2026-Q3',
    );
    expect(requests).toHaveLength(1);
    await page.close();
  });

  it('the readiness view lists the checklist by section with statuses, reasons and evidence keys', async () => {
    const model = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
    });
    const { page, requests } = await open('readiness', renderReadinessHtml(model));
    expect(await page.locator('#readiness h3').allTextContents()).toEqual([
      'Documentation',
      'Technical Controls',
      'Evidence Collection',
    ]);
    expect(await page.locator('#readiness li.item').count()).toBe(17);
    expect(await page.locator('li.item[data-status="ready"]').count()).toBe(1);
    expect(await page.getAttribute('#readiness-access-reviews', 'data-status')).toBe('ready');
    expect(await page.textContent('#readiness-access-reviews')).toContain('access-review quarterly 2026-Q3');
    expect(await page.textContent('#readiness-security-training')).toContain(
      'attestations/security-training/{period}/',
    );
    expect(await page.textContent('#readiness-headline')).toBe('17 items: 1 ready, 0 not ready, 16 unknown.');
    expect(requests).toHaveLength(1);
    await page.close();
  });
});
