/**
 * Deterministic draws keyed by name: the same seed and key always give the same number,
 * whatever else was drawn before, so a guest's profile does not depend on which other
 * guests exist or in which order they are looked at (unlike a stream PRNG).
 */

/** cyrb53: a small, well-mixed 53-bit string hash; `seed` selects an independent family. */
function cyrb53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A draw family: `unit('cpu', id)` is uniform in [0, 1) and stable for the seed and key. */
export class SeededHash {
  constructor(private readonly seed: number) {}

  unit(...key: readonly string[]): number {
    // The seed can exceed 32 bits: fold the high part into the text so every seed differs.
    const high = Math.floor(this.seed / 4294967296);
    return cyrb53(`${high}\u0000${key.join('\u0000')}`, this.seed >>> 0) / 2 ** 53;
  }

  /** Uniform in [min, max). */
  between(range: readonly [number, number], ...key: readonly string[]): number {
    return range[0] + (range[1] - range[0]) * this.unit(...key);
  }

  /** Log-uniform in [min, max): rates span orders of magnitude, and most guests are quiet. */
  logBetween(range: readonly [number, number], ...key: readonly string[]): number {
    return Math.exp(Math.log(range[0]) + (Math.log(range[1]) - Math.log(range[0])) * this.unit(...key));
  }

  /** One of the choices, evenly. */
  pick<T>(choices: readonly T[], ...key: readonly string[]): T {
    return choices[Math.min(choices.length - 1, Math.floor(this.unit(...key) * choices.length))] as T;
  }
}
