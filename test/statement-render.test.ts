import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementHtml } from '../api/rating/statements/html.ts';
import { createPdfRenderer, DEFAULT_CHROMIUM_PATH } from '../api/rating/statements/pdf.ts';
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

interface Png {
  width: number;
  height: number;
  /** RGBA, row after row. */
  rgba: Uint8Array;
}

/** The PNGs Chromium writes: 8-bit RGB or RGBA, non-interlaced; scanline filters undone. */
function decodePng(data: Buffer): Png {
  expect(data.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < data.length; ) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      expect([depth, interlace]).toEqual([8, 0]);
      channels = color === 6 ? 4 : color === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${color}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const upLeft = y > 0 && x >= channels ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      const paeth = () => {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, paeth()][filter] as number;
      pixels[y * stride + x] = ((line[x] as number) + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? (pixels[i * channels + 3] as number) : 255;
  }
  return { width, height, rgba };
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels in the box that are not the white page, and those that are clearly the chart's blue (#2f6fb3). */
function inkIn(png: Png, box: Box): { ink: number; blue: number; total: number } {
  let ink = 0;
  let blue = 0;
  let total = 0;
  for (let y = Math.floor(box.y); y < Math.min(png.height, Math.ceil(box.y + box.height)); y++) {
    for (let x = Math.floor(box.x); x < Math.min(png.width, Math.ceil(box.x + box.width)); x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [png.rgba[i] as number, png.rgba[i + 1] as number, png.rgba[i + 2] as number];
      total++;
      if (r < 245 || g < 245 || b < 245) ink++;
      if (b > 140 && b - r > 60 && b - g > 20) blue++;
    }
  }
  return { ink, blue, total };
}

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
    const renderer = createPdfRenderer({ executablePath: CHROMIUM });
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
    const renderer = createPdfRenderer({ executablePath: '/nonexistent/chromium' });
    await expect(renderer.render('<p>x</p>')).rejects.toMatchObject({ httpStatus: 503, code: 'CUMULUS_RATING_PDF_UNAVAILABLE', message: expect.stringContaining('apt-get install chromium') });
  });
});
