import type { Sample } from '../../core/index.ts';
import type { MeterMapper } from '../meters/mapper.ts';
import { MalformedNotificationError, openEnvelope } from '../notifications/envelope.ts';
import { parseCapturedLine } from './captured.ts';

/** A sample as Ceilometer's sample JSON has it (what `ceilometer` writes with a file publisher). */
export interface CeilometerSampleJson {
  name: string;
  type: string;
  unit: string;
  volume: number;
  user_id: string | null;
  project_id: string | null;
  resource_id: string;
  timestamp: string;
  resource_metadata: Record<string, unknown>;
  source: string;
  message_id: string;
  id: string;
}

export function toCeilometerJson(sample: Sample): CeilometerSampleJson {
  return {
    name: sample.name,
    type: sample.type,
    unit: sample.unit,
    volume: sample.volume,
    user_id: sample.user_id,
    project_id: sample.project_id,
    resource_id: sample.resource_id,
    timestamp: sample.timestamp,
    resource_metadata: sample.resource_metadata,
    source: sample.source,
    message_id: sample.message_id,
    id: sample.id,
  };
}

export interface OfflineRefusal {
  line: number;
  code: string;
  reason: string;
}

export interface OfflineResult {
  samples: CeilometerSampleJson[];
  refused: OfflineRefusal[];
  lines: number;
}

/**
 * Maps a capture offline, with no service running, to test a meter definition change
 * before deploying it: every line gives its samples, or a refusal with its line number
 * and reason (nothing is dropped without a word). Blank lines are skipped.
 */
export function mapCapture(lines: Iterable<string>, mapper: MeterMapper): OfflineResult {
  const result: OfflineResult = { samples: [], refused: [], lines: 0 };
  let number = 0;
  for (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    result.lines++;
    try {
      const captured = parseCapturedLine(line);
      for (const sample of mapper.map(openEnvelope(captured.body))) result.samples.push(toCeilometerJson(sample));
    } catch (err) {
      if (!(err instanceof MalformedNotificationError)) throw err;
      result.refused.push({ line: number, code: err.code, reason: err.message });
    }
  }
  return result;
}
