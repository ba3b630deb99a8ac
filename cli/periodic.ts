import cron from 'node-cron';
import type { Cloud } from '../cloud/index.ts';
import { errorMessage, type Clock, type Lifecycle, type Logger } from '../core/index.ts';

const HOUR_MS = 3_600_000;

/**
 * The control plane's periodic tasks, as the real services run them: the hourly usage
 * audits (nova's compute.instance.exists, cinder's volume.exists) and cinder-scheduler's
 * capacity reports. The simulator calls `hourly` itself while it warps time.
 */
export class PeriodicTasks implements Lifecycle {
  private readonly tasks: Array<{ stop(): void | Promise<void> }> = [];

  constructor(
    private readonly cloud: Cloud,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The audits for the hour [start, end). */
  async hourly(start: Date, end: Date): Promise<void> {
    await this.cloud.nova.emitExists(start, end);
    await this.cloud.cinder.emitExists(start, end);
  }

  async start(): Promise<void> {
    this.tasks.push(
      cron.schedule('0 * * * *', async () => {
        const end = Math.floor(this.clock.nowMs() / HOUR_MS) * HOUR_MS;
        await this.hourly(new Date(end - HOUR_MS), new Date(end)).catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'hourly usage audit failed'));
      }),
      cron.schedule('* * * * *', async () => {
        await this.cloud.cinder.emitCapacity().catch((err: unknown) => this.logger.warn({ err: errorMessage(err) }, 'capacity report failed'));
      }),
    );
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.splice(0)) await task.stop();
  }
}
