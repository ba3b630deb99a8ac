/** Test-only: a stream that records what it is sent and can refuse sends, for the pollster's tests. */
import { TransportError, type Sample, type Stream, type StreamConsumerHandle, type StreamRecord } from '../../core/index.ts';

export interface RecordedSend {
  topic: string;
  records: readonly StreamRecord[];
}

export class RecordingStream implements Stream {
  readonly kind = 'memory' as const;
  readonly sends: RecordedSend[] = [];
  /** How many of the next sends to refuse, as a broker under pressure would. */
  refuseNext = 0;

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async send(topic: string, records: readonly StreamRecord[]): Promise<void> {
    if (this.refuseNext > 0) {
      this.refuseNext -= 1;
      throw new TransportError('CUMULUS_TEST_STREAM_REFUSED', 'the test stream refused this send');
    }
    this.sends.push({ topic, records });
  }

  async subscribe(): Promise<StreamConsumerHandle> {
    throw new Error('the recording stream has no consumers');
  }

  /** Every sample sent so far, in order. */
  samples(): Sample[] {
    return this.sends.flatMap((s) => s.records.map((r) => JSON.parse(r.value.toString('utf8')) as Sample));
  }

  clear(): void {
    this.sends.length = 0;
  }
}
