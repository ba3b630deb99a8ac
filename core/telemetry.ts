/**
 * Every component reports its own telemetry through this one helper: how many items it
 * accepted, refused (dead-lettered), dropped, and how long its batches took. The
 * registry renders them in Prometheus' text exposition format for /metrics.
 */
export interface ComponentTelemetry {
  accepted(count?: number): void;
  refused(count?: number): void;
  dropped(count?: number): void;
  observeBatch(durationMs: number): void;
  snapshot(): TelemetrySnapshot;
}

export interface TelemetrySnapshot {
  component: string;
  accepted: number;
  refused: number;
  dropped: number;
  batches: number;
  batchMsSum: number;
}

export class TelemetryRegistry {
  private readonly components = new Map<string, TelemetrySnapshot>();

  component(name: string): ComponentTelemetry {
    let state = this.components.get(name);
    if (!state) {
      state = { component: name, accepted: 0, refused: 0, dropped: 0, batches: 0, batchMsSum: 0 };
      this.components.set(name, state);
    }
    const s = state;
    return {
      accepted: (count = 1) => void (s.accepted += count),
      refused: (count = 1) => void (s.refused += count),
      dropped: (count = 1) => void (s.dropped += count),
      observeBatch: (durationMs) => {
        s.batches += 1;
        s.batchMsSum += durationMs;
      },
      snapshot: () => ({ ...s }),
    };
  }

  snapshots(): TelemetrySnapshot[] {
    return [...this.components.values()].map((s) => ({ ...s }));
  }

  /** Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, help: string, type: 'counter' | 'gauge', pick: (s: TelemetrySnapshot) => number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const s of this.components.values()) lines.push(`${name}{component="${s.component}"} ${pick(s)}`);
    };
    metric('cumulus_items_accepted_total', 'Items a component accepted and handed on.', 'counter', (s) => s.accepted);
    metric('cumulus_items_refused_total', 'Items a component refused (sent to dead letters).', 'counter', (s) => s.refused);
    metric('cumulus_items_dropped_total', 'Items a component dropped on purpose (e.g. outside retention).', 'counter', (s) => s.dropped);
    metric('cumulus_batches_total', 'Batches a component processed.', 'counter', (s) => s.batches);
    metric('cumulus_batch_duration_ms_sum', 'Total time spent in batches, ms.', 'counter', (s) => s.batchMsSum);
    return `${lines.join('\n')}\n`;
  }
}
