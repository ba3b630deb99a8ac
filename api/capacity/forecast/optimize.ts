/**
 * A small, deterministic Nelder-Mead minimiser for the smoothing parameters.
 *
 * Smoothing parameters live in bounded intervals; we search an unconstrained space and map
 * each coordinate through a logistic onto its interval, so the simplex can never step outside
 * and no penalty terms distort the objective. The start point, the initial simplex and the
 * tie-breaking are fixed, so the same series always gives the same parameters.
 */

export interface ParameterBound {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Where the search starts; must lie strictly inside (min, max). */
  readonly start: number;
}

export interface MinimizeOptions {
  /** Objective evaluations allowed in total (restarts included). */
  readonly maxEvaluations: number;
  /** Stop when the simplex's objective values differ by less than this, relative to the best. */
  readonly relativeTolerance: number;
}

export interface MinimizeResult {
  readonly parameters: Record<string, number>;
  readonly values: number[];
  readonly objective: number;
  readonly evaluations: number;
}

const logistic = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** Minimises `objective(values)` over the box given by `bounds` (values in the order of `bounds`). */
export function minimizeBounded(objective: (values: number[]) => number, bounds: readonly ParameterBound[], options: MinimizeOptions): MinimizeResult {
  const toValues = (z: readonly number[]) => z.map((zi, i) => {
    const b = bounds[i]!;
    return b.min + (b.max - b.min) * logistic(zi);
  });
  const toZ = (values: readonly number[]) => values.map((v, i) => {
    const b = bounds[i]!;
    return logit((v - b.min) / (b.max - b.min));
  });
  let evaluations = 0;
  const f = (z: readonly number[]) => {
    evaluations += 1;
    const value = objective(toValues(z));
    // A diverging filter yields NaN or Infinity: rank it worst so the simplex walks away from it.
    return Number.isFinite(value) ? value : Number.MAX_VALUE;
  };

  let best = toZ(bounds.map((b) => b.start));
  let bestValue = f(best);
  // One restart from the best point: Nelder-Mead can stall on a collapsed simplex, and a
  // fresh simplex around the optimum is the usual cheap remedy.
  for (let round = 0; round < 2 && evaluations < options.maxEvaluations; round++) {
    const result = nelderMead(f, best, options.maxEvaluations - evaluations, options.relativeTolerance);
    if (result.value <= bestValue) {
      best = result.z;
      bestValue = result.value;
    }
  }
  const values = toValues(best);
  return { parameters: Object.fromEntries(bounds.map((b, i) => [b.name, values[i]!])), values, objective: bestValue, evaluations };
}

/** The textbook simplex moves (reflection 1, expansion 2, contraction 0.5, shrink 0.5). */
function nelderMead(f: (z: readonly number[]) => number, start: readonly number[], budget: number, tolerance: number): { z: number[]; value: number } {
  const dim = start.length;
  // Initial simplex: one step of 1 in logit space per coordinate (about a factor e in odds).
  const simplex: { z: number[]; value: number }[] = [{ z: [...start], value: f(start) }];
  for (let i = 0; i < dim; i++) {
    const z = [...start];
    z[i] = z[i]! + 1;
    simplex.push({ z, value: f(z) });
  }
  let used = dim + 1;
  const order = () => simplex.sort((a, b) => a.value - b.value);
  while (used < budget) {
    order();
    const lowest = simplex[0]!;
    const highest = simplex[dim]!;
    if (Math.abs(highest.value - lowest.value) <= tolerance * (Math.abs(lowest.value) + 1e-12)) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let k = 0; k < dim; k++) for (let i = 0; i < dim; i++) centroid[i]! += simplex[k]!.z[i]! / dim;
    const along = (t: number) => centroid.map((c, i) => c + t * (highest.z[i]! - c));
    const reflected = along(-1);
    const reflectedValue = f(reflected);
    used++;
    if (reflectedValue < lowest.value) {
      const expanded = along(-2);
      const expandedValue = f(expanded);
      used++;
      simplex[dim] = expandedValue < reflectedValue ? { z: expanded, value: expandedValue } : { z: reflected, value: reflectedValue };
      continue;
    }
    if (reflectedValue < simplex[dim - 1]!.value) {
      simplex[dim] = { z: reflected, value: reflectedValue };
      continue;
    }
    const outside = reflectedValue < highest.value;
    const contracted = along(outside ? -0.5 : 0.5);
    const contractedValue = f(contracted);
    used++;
    if (contractedValue < Math.min(reflectedValue, highest.value)) {
      simplex[dim] = { z: contracted, value: contractedValue };
      continue;
    }
    for (let k = 1; k <= dim; k++) {
      const z = simplex[k]!.z.map((zi, i) => lowest.z[i]! + 0.5 * (zi - lowest.z[i]!));
      simplex[k] = { z, value: f(z) };
      used++;
    }
  }
  order();
  return simplex[0]!;
}
