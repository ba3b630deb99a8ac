/**
 * The one lifecycle every long-lived component has. `stop()` is idempotent, safe before
 * `start()`, and flushes what the component holds downstream before it resolves.
 */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Stops components in reverse start order; collects failures instead of stopping early. */
export async function stopAll(components: readonly Lifecycle[]): Promise<void> {
  const failures: unknown[] = [];
  for (const component of [...components].reverse()) {
    try {
      await component.stop();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} component(s) failed to stop`);
}
