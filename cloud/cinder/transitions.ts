import type { Logger } from '../../core/index.ts';

/**
 * The asynchronous half of Cinder's state machine: what cinder-volume, cinder-backup and
 * the scheduler do after the API answered (creating -> available, deleting -> gone...),
 * each step after the transition delay.
 */
export class Transitions {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly delayMs: number,
    private readonly logger: Logger,
  ) {}

  /** Runs `step` after the delay; a failing step is logged, as a failing RPC cast would be. */
  later(step: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => setTimeout(resolve, this.delayMs))
      .then(step)
      .catch((err: unknown) => this.logger.error({ err }, 'cinder: a background step failed'))
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  /** Resolves once no step is under way, including steps scheduled by steps. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
