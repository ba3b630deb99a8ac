import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capacityReport, type HostInventory, type RegularSeries } from '../api/capacity/index.ts';
import { assembleCapacityReport, capacityReportCsv, capacityReportHtml, type CapacityPlanningReport } from '../api/capacity/report/index.ts';
import { createPdfRenderer, DEFAULT_CHROMIUM_PATH } from '../api/pdf.ts';
import { parseCsv } from './support/csv.ts';
import { decodePng, inkIn, type Box } from './support/png.ts';

/**
 * Issue 9: a capacity planning report built from a known history (hourly use with daily and
 * weekly seasons and a steady growth) over a known set of hosts, rendered and opened in
 * headless Chromium (Debian's): every chart is there and drawn, the exhaustion dates are
 * where the growth puts them, flavor fit shrinks month by month, the CSV carries the same
 * figures, and the PDF has pages. In CI a missing Chromium fails these tests.
 */

const CHROMIUM = DEFAULT_CHROMIUM_PATH;
const runnable = existsSync(CHROMIUM) || process.env.CI === 'true';
const SHOTS = join(process.cwd(), '.cache', 'capacity-report');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-11-02T00:00:00Z');
const WEEKS = 6;

/** Four hosts: 32 hyperthreaded cores, 256 GiB, 2 TB each; two zones. */
const HOSTS: HostInventory[] = Array.from({ length: 4 }, (_, i) => ({
  name: `compute-${i + 1}`,
  availabilityZone: i < 2 ? 'az-1' : 'az-2',
  aggregates: ['general'],
  cores: 32,
  threadsPerCore: 2,
  memoryMb: 262_144,
  diskGb: 2_000,
}));

/** A deterministic pseudo-random source (mulberry32), so the noise is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Hourly use: base + growth per day, a daily swing peaking mid-afternoon, weekends lower, some noise. */
function history(base: number, perDay: number, swing: number, seed: number): { series: RegularSeries; now: number } {
  const next = random(seed);
  const points = WEEKS * 7 * 24;
  const startMs = NOW.getTime() - points * HOUR;
  const values = Array.from({ length: points }, (_, i) => {
    const at = new Date(startMs + i * HOUR);
    const daily = Math.sin(((at.getUTCHours() - 9) / 24) * 2 * Math.PI);
    const weekend = at.getUTCDay() === 0 || at.getUTCDay() === 6 ? -0.5 : 0;
    return base + (perDay * i) / 24 + swing * (daily + weekend) + (next() - 0.5) * swing * 0.2;
  });
  return { series: { startMs, stepSeconds: 3600, values }, now: base + perDay * WEEKS * 7 };
}

function report(): CapacityPlanningReport {
  const vcpus = history(400, 4, 30, 1);
  const memory = history(300_000, 1_000, 20_000, 2);
  const disk = history(2_000, 2, 50, 3);
  const used = { vcpus: vcpus.now, memoryMb: memory.now, diskGb: disk.now };
  // Spread the use evenly over the hosts for the model.
  const usedByHost = Object.fromEntries(HOSTS.map((h) => [h.name, { vcpus: used.vcpus / 4, memoryMb: used.memoryMb / 4, diskGb: used.diskGb / 4 }]));
  const model = capacityReport(HOSTS, usedByHost, {});
  return assembleCapacityReport({
    scope: 'cloud',
    now: NOW,
    factors: { cpuAllocationRatio: 8, ramAllocationRatio: 1, osOverhead: 0.2, hyperthreadingFactor: 1.3 },
    totals: model.total,
    history: { vcpus: vcpus.series, memoryMb: memory.series, diskGb: disk.series },
    horizonDays: 120,
    zones: Object.entries(model.availabilityZones).map(([zone, t]) => ({ zone, hosts: t.hosts, capacity: t.capacity, used: t.used })),
    rooms: model.hosts.map((h) => ({ name: h.name, free: h.free, maxUnit: h.maxUnit })),
    flavors: [
      { name: 'm1.small', vcpus: 1, memoryMb: 2_048, diskGb: 20 },
      { name: 'm1.large', vcpus: 4, memoryMb: 8_192, diskGb: 80 },
      { name: 'm1.xlarge', vcpus: 8, memoryMb: 16_384, diskGb: 160 },
    ],
    growth: [{ project: 'web', perMonth: 12.5, percent: 4.2 }],
  });
}

describe('the capacity planning report', () => {
  const built = report();

  it('finds the exhaustion dates the growth implies, and flavor fit shrinking month by month', () => {
    const [vcpus, memory] = built.resources;
    // Memory: 80% of 4 x 256 GiB = 838,861 MiB; used 342,000 MiB now, growing 1,000 MiB a day
    // with a daily swing of up to +20,000: reached after about (838,861 - 342,000 - 20,000) / 1,000 = 477 days,
    // past the 120-day horizon.
    expect(memory?.capacity).toBe(838_860);
    expect(memory?.exhaustion.status).toBe('not-within-horizon');
    // vCPU: 32 cores x 1.3 x 8, less 20%: 4 x floor(32 x 1.3 x 0.8 x 8) = 4 x 266 = 1,064 vCPU;
    // used 568 growing 4 a day, swing up to +30: about (1,064 - 568 - 30) / 4 = 116 days.
    expect(vcpus?.capacity).toBe(1_064);
    expect(vcpus?.exhaustion.status).toBe('within-horizon');
    const days = (Date.parse(vcpus?.exhaustion.at as string) - NOW.getTime()) / DAY;
    expect(days).toBeGreaterThan(100);
    expect(days).toBeLessThan(125);
    expect(Date.parse(vcpus?.exhaustion.earliest as string)).toBeLessThanOrEqual(Date.parse(vcpus?.exhaustion.at as string));
    // Every model the backtest chose beats the seasonal naive forecast.
    for (const r of built.resources) expect(r.mase, r.resource).toBeLessThan(1);
    const small = built.flavorFit.flavors.find((f) => f.name === 'm1.small');
    expect(small?.byMonth).toHaveLength(6);
    expect(small?.now).toBeGreaterThan(small?.byMonth[5] as number);
    for (let i = 1; i < 6; i++) expect(small?.byMonth[i] as number).toBeLessThanOrEqual(small?.byMonth[i - 1] as number);
  });

  it('writes the same figures as CSV', () => {
    const [header, ...rows] = parseCsv(capacityReportCsv(built));
    const col = (name: string) => (header ?? []).indexOf(name);
    const summary = rows.filter((r) => r[col('record')] === 'summary');
    expect(summary.map((r) => [r[col('resource')], Number(r[col('capacity')]), r[col('exhaustion')]])).toEqual(built.resources.map((s) => [s.resource, s.capacity, s.exhaustion.at ?? '']));
    expect(rows.filter((r) => r[col('record')] === 'history')).toHaveLength(3 * WEEKS * 7 * 24);
    expect(rows.filter((r) => r[col('record')] === 'forecast')).toHaveLength(3 * 120 * 24);
    expect(rows.filter((r) => r[col('record')] === 'flavor_fit')).toHaveLength(3 * 7);
  });

  describe.runIf(runnable)('in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const html = capacityReportHtml(built);

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
      page = await browser.newPage({ viewport: { width: 900, height: 1400 }, deviceScaleFactor: 1 });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('shows every chart, drawn: history, forecast band and capacity per resource, and flavor fit', async () => {
      await page.setContent(html, { waitUntil: 'load' });
      const shot = await page.screenshot({ fullPage: true });
      writeFileSync(join(SHOTS, 'capacity-report.png'), shot);
      const png = decodePng(shot);
      for (const id of ['chart-vcpus', 'chart-memoryMb', 'chart-diskGb', 'chart-flavor-fit']) {
        const svg = page.locator(`#${id} svg`);
        expect(await svg.count(), id).toBe(1);
        const box = (await svg.boundingBox()) as Box;
        expect(box.width, id).toBeGreaterThan(500);
        expect(box.height, id).toBeGreaterThan(200);
        const ink = inkIn(png, box);
        expect(ink.ink / ink.total, `ink in ${id}`).toBeGreaterThan(0.02);
        expect(ink.blue, `blue (history line or bars) in ${id}`).toBeGreaterThan(100);
      }
      const legend = await page.locator('#chart-vcpus svg text').allTextContents();
      expect(legend).toEqual(expect.arrayContaining(['used', 'forecast', 'capacity']));
      expect(await page.locator('table').count()).toBeGreaterThanOrEqual(4);
      expect(await page.textContent('body')).toContain('Runs out:');
    });

    it('prints to a PDF with pages', async () => {
      const renderer = createPdfRenderer({ executablePath: CHROMIUM, documents: 'PDF capacity reports' });
      try {
        const pdf = await renderer.render(html);
        writeFileSync(join(SHOTS, 'capacity-report.pdf'), pdf);
        expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(Number(/\/Count (\d+)/.exec(pdf.toString('latin1'))?.[1])).toBeGreaterThanOrEqual(2);
      } finally {
        await renderer.close();
      }
    }, 60_000);
  });
});
