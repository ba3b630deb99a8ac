import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementHtml } from '../api/rating/statements/html.ts';
import { createPdfRenderer, DEFAULT_CHROMIUM_PATH } from '../api/pdf.ts';
import { decodePng, inkIn, type Box } from './support/png.ts';
import { buildStatementContent, numberedStatement, parseMonth, projectScope, type Statement, type StatementLineRow } from '../storage/index.ts';

/**
 * A rendered statement opened in headless Chromium (Debian's, through playwright-core):
 * the charts are there, sized, and drawn (the screenshot has chart pixels where the chart
 * is, and none there in the same page without it). The PDF is a PDF with pages. In CI a
 * missing Chromium fails these tests; elsewhere they are skipped.
 */

const CHROMIUM = DEFAULT_CHROMIUM_PATH;
const runnable = existsSync(CHROMIUM) || process.env.CI === 'true';
const SHOTS = join(process.cwd(), '.cache', 'statement-render');

const line = (fields: Partial<StatementLineRow>): StatementLineRow => ({
  project_id: 'p-render',
  service: 'instance',
  resource_id: 'vm-1',
  resource_type: 'instance',
  display_name: 'web-1',
  unit: 'instance',
  price: '0.034246914',
  currency: 'EUR',
  quantity: '720',
  cost: '24.657778080',
  first_start: '2026-09-01 00:00:00',
  last_end: '2026-10-01 00:00:00',
  frames: '720',
  ...fields,
});

function sampleStatement(): Statement {
  const month = parseMonth('2026-09')!;
  const rows = [
    line({}),
    line({ service: 'volume.size', resource_id: 'vol-1', resource_type: 'volume', display_name: 'data', unit: 'GiB-hour', price: '0.000152778', quantity: '14400', cost: '2.200003200' }),
    line({ service: 'ip.floating', resource_id: 'fip-1', resource_type: 'network', display_name: '', unit: 'ip-hour', price: '0.004999999', quantity: '720', cost: '3.599999280' }),
  ];
  const daily = Array.from({ length: 30 }, (_, d) => ({ day: `2026-09-${String(d + 1).padStart(2, '0')}`, currency: 'EUR', cost: (1 + (d % 7) * 0.125).toFixed(3) }));
  const content = buildStatementContent(projectScope('p-render'), month, rows, daily);
  return numberedStatement(content, { number: 'CUM-202609-prender-000001', revision: 1, scope: content.scope, month: '2026-09', currency: 'EUR', total: content.total, line_count: 3, digest: 'x', issued_at: '2026-10-01T07:00:00.000Z', issued_by: 'job', supersedes: null, superseded_by: null });
}

describe.runIf(runnable)('a statement in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const html = statementHtml(sampleStatement(), new Date('2026-10-01T07:00:00Z'));

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1000, height: 1400 }, deviceScaleFactor: 1 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows both charts: SVG elements with a size, drawn in the screenshot', async () => {
    await page.setContent(html, { waitUntil: 'load' });
    for (const id of ['chart-services', 'chart-trend']) {
      const svg = page.locator(`#${id} svg`);
      expect(await svg.count(), id).toBe(1);
      const box = (await svg.boundingBox()) as Box;
      expect(box.width, id).toBeGreaterThan(300);
      expect(box.height, id).toBeGreaterThan(150);
      expect(await page.locator(`#${id} svg path`).count(), `${id} paths`).toBeGreaterThan(5);
    }
    // A bar per service, labelled with the service and its total as printed.
    const texts = await page.locator('#chart-services svg text').allTextContents();
    expect(texts).toEqual(expect.arrayContaining(['instance', 'volume.size', 'ip.floating', '24.66', '2.20', '3.60']));

    const shot = await page.screenshot({ fullPage: true });
    writeFileSync(join(SHOTS, 'statement.png'), shot);
    const png = decodePng(shot);
    const services = inkIn(png, (await page.locator('#chart-services svg').boundingBox()) as Box);
    const trend = inkIn(png, (await page.locator('#chart-trend svg').boundingBox()) as Box);
    expect(services.ink / services.total, 'ink in the service chart').toBeGreaterThan(0.03);
    expect(services.blue, 'bar pixels in the service chart').toBeGreaterThan(500);
    expect(trend.ink / trend.total, 'ink in the trend chart').toBeGreaterThan(0.03);
    expect(trend.blue, 'line pixels in the trend chart').toBeGreaterThan(200);

    // The same page without the charts' drawings: the same boxes are blank.
    const serviceBox = (await page.locator('#chart-services svg').boundingBox()) as Box;
    // (A string: the test is compiled without the DOM's types.)
    await page.evaluate("document.querySelectorAll('figure svg > *').forEach((node) => node.remove())");
    const blankShot = await page.screenshot({ fullPage: true });
    writeFileSync(join(SHOTS, 'statement-without-charts.png'), blankShot);
    expect(inkIn(decodePng(blankShot), serviceBox).ink, 'ink without the chart').toBe(0);
  });

  it('prints to a PDF with pages', async () => {
    const renderer = createPdfRenderer({ executablePath: CHROMIUM, documents: 'PDF statements', errorCode: 'CUMULUS_RATING_PDF_UNAVAILABLE' });
    try {
      const pdf = await renderer.render(html);
      writeFileSync(join(SHOTS, 'statement.pdf'), pdf);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = pdf.toString('latin1');
      expect((text.match(/\/Type\s*\/Page\b/g) ?? []).length).toBeGreaterThanOrEqual(1);
      expect(Number(/\/Count (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
      expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
      // The browser is kept for the next PDF.
      expect((await renderer.render(html)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    } finally {
      await renderer.close();
      await renderer.close();
    }
  }, 60_000);
});

describe('without Chromium', () => {
  it('answers 503 saying what to install', async () => {
    const renderer = createPdfRenderer({ executablePath: '/nonexistent/chromium', documents: 'PDF statements', errorCode: 'CUMULUS_RATING_PDF_UNAVAILABLE' });
    await expect(renderer.render('<p>x</p>')).rejects.toMatchObject({ httpStatus: 503, code: 'CUMULUS_RATING_PDF_UNAVAILABLE', message: expect.stringContaining('apt-get install chromium') });
  });
});
