import { CapacityError } from '../errors.ts';
import { seasonsOf } from './forecast.ts';
import { fillGaps, fitSeasonalLine, type RegularSeries } from './series.ts';

/** A month for growth rates: 30 days, so rates compare across calendar months. */
export const MONTH_SECONDS = 30 * 86_400;
/** Percent growth is left undefined when the mean level is within this of zero (relative to the largest project's). */
const NEAR_ZERO_LEVEL = 1e-9;

export interface ProjectUsage {
  readonly projectId: string;
  readonly series: RegularSeries;
}

/** One project's growth (experimental). */
export interface ProjectGrowth {
  readonly projectId: string;
  /** 1 = adds the most usage per month. */
  readonly rank: number;
  /** Trend of the deseasonalised usage, in the series' unit per 30 days. */
  readonly slopePerMonth: number;
  /** slopePerMonth as a percentage of the mean level; null when the mean is (near) zero. */
  readonly percentPerMonth: number | null;
  readonly meanLevel: number;
  /** This project's part of the growth of all growing projects (0..1); null for a shrinking or flat project or when nothing grows. */
  readonly shareOfGrowth: number | null;
  readonly slopeStdErrorPerMonth: number;
  readonly gapNote: string | null;
}

/**
 * Growth by project: a line fitted jointly with the weekly (else daily) season over each
 * project's last whole seasons (so a weekend dip does not tilt the slope), ranked by usage
 * added per month, largest first.
 */
export function projectGrowth(projects: readonly ProjectUsage[]): ProjectGrowth[] {
  const seen = new Set<string>();
  const fits = projects.map((project, i) => {
    if (typeof project.projectId !== 'string' || project.projectId === '') throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `projects[${i}].projectId must be a non-empty string`);
    if (seen.has(project.projectId)) throw new CapacityError('CUMULUS_CAPACITY_SERIES_INVALID', `projects[${i}].projectId ${project.projectId} appears twice; merge its series first`);
    seen.add(project.projectId);
    const filled = fillGaps(project.series);
    const y = filled.values;
    const n = y.length;
    const seasons = seasonsOf(filled.stepSeconds);
    const period = seasons.weekly !== null && n >= 2 * seasons.weekly ? seasons.weekly : seasons.daily !== null && n >= 2 * seasons.daily ? seasons.daily : 1;
    const from = n - Math.floor(n / period) * period;
    const fit = fitSeasonalLine(y, from, n, period);
    let meanLevel = 0;
    for (let t = from; t < n; t++) meanLevel += y[t]! / (n - from);
    const perMonth = MONTH_SECONDS / filled.stepSeconds;
    return { projectId: project.projectId, slopePerMonth: fit.slope * perMonth, slopeStdErrorPerMonth: fit.slopeStdError * perMonth, meanLevel, gapNote: filled.gaps.note };
  });
  const largest = Math.max(0, ...fits.map((f) => Math.abs(f.meanLevel)));
  const totalGrowth = fits.reduce((sum, f) => sum + Math.max(0, f.slopePerMonth), 0);
  return fits
    .sort((a, b) => b.slopePerMonth - a.slopePerMonth || a.projectId.localeCompare(b.projectId))
    .map((f, i) => ({
      projectId: f.projectId,
      rank: i + 1,
      slopePerMonth: f.slopePerMonth,
      percentPerMonth: Math.abs(f.meanLevel) > NEAR_ZERO_LEVEL * Math.max(1, largest) ? (100 * f.slopePerMonth) / f.meanLevel : null,
      meanLevel: f.meanLevel,
      shareOfGrowth: f.slopePerMonth > 0 && totalGrowth > 0 ? f.slopePerMonth / totalGrowth : null,
      slopeStdErrorPerMonth: f.slopeStdErrorPerMonth,
      gapNote: f.gapNote,
    }));
}
