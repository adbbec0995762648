import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.ts';
import { buildHeatMaps } from '../../lib/risks/heat-map.ts';
import { renderHeatMapHtml } from '../../lib/risks/heat-map-html.ts';
import { register, riskInput } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** The fragment alone in a page, as the export's index.html will embed it. */
async function open(html: string) {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.setContent(
    `<!doctype html><html><head><meta charset="utf-8"></head><body>${html}</body></html>`,
  );
  return { page, requests };
}

describe('risk heat map HTML fragment in headless Chromium', () => {
  it('shows R2 in (4,4) and R1 in (3,5) of the inherent map, coloured as at or above the threshold', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    const { page, requests } = await open(
      renderHeatMapHtml(buildHeatMaps(config.riskRegister ?? register({}))),
    );
    const cell = (map: string, l: number, i: number) =>
      page.locator(`td.heat-cell[data-map="${map}"][data-likelihood="${l}"][data-impact="${i}"]`);
    expect(await cell('inherent', 4, 4).getAttribute('data-risk-ids')).toBe('R2');
    expect(await cell('inherent', 3, 5).getAttribute('data-risk-ids')).toBe('R1');
    expect(await cell('inherent', 4, 4).innerText()).toMatch(/^1\s+R2$/);
    expect(await cell('inherent', 2, 4).innerText()).toMatch(/^2\s+R6, R10$/);
    expect(await page.locator('td.heat-cell[data-map="inherent"]').count()).toBe(25);
    expect(await page.locator('td.heat-cell[data-map="residual"]').count()).toBe(25);

    // Every risk in exactly one inherent cell.
    const ids = await page
      .locator('td.heat-cell[data-map="inherent"]')
      .evaluateAll((cells) =>
        cells.flatMap((c) => (c.getAttribute('data-risk-ids') ?? '').split(' ').filter(Boolean)),
      );
    expect(ids.sort()).toEqual(['R1', 'R10', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9']);

    // Coloured by the threshold: what the reader sees, not only the attribute.
    const background = (l: number, i: number) =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector('td.heat-cell[data-map="inherent"][data-likelihood="${l}"][data-impact="${i}"]')).backgroundColor`,
      );
    expect(await background(4, 4)).toBe('rgb(244, 199, 195)');
    expect(await background(3, 4)).toBe('rgb(244, 199, 195)'); // 12: at the threshold
    expect(await background(2, 5)).toBe('rgb(217, 234, 211)'); // 10: below
    expect(
      await page.locator('td.heat-cell[data-band="at-or-above-threshold"][data-map="inherent"]').count(),
    ).toBe(8);
    expect(await page.getByText('No residual score recorded for R1, R10, R2').count()).toBe(0);
    expect(await page.locator('p.note').last().innerText()).toContain(
      'No residual score recorded for R1, R2, R3',
    );
    expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it('moves a mitigated risk to its residual cell on the residual map only', async () => {
    const maps = buildHeatMaps(
      register({
        risks: [riskInput({ id: 'R1', likelihood: 3, impact: 5, residual: { likelihood: 1, impact: 5 } })],
      }),
    );
    const { page } = await open(renderHeatMapHtml(maps));
    const ids = (map: string, l: number, i: number) =>
      page
        .locator(`td.heat-cell[data-map="${map}"][data-likelihood="${l}"][data-impact="${i}"]`)
        .getAttribute('data-risk-ids');
    expect(await ids('inherent', 3, 5)).toBe('R1');
    expect(await ids('residual', 3, 5)).toBe('');
    expect(await ids('residual', 1, 5)).toBe('R1');
    expect(
      await page
        .locator('td.heat-cell[data-map="residual"][data-likelihood="1"][data-impact="5"]')
        .getAttribute('data-band'),
    ).toBe('below-threshold');
    await page.close();
  });
});
