import { TOPICS, type LogRecord, type Stream, type StreamRecord } from '../../core/index.ts';
import type { LogConsumer } from './tailer.ts';

/** A log record as it goes to `cumulus.logs`: keyed by host and service, so one file's lines stay in order. Stable. */
export function logStreamRecord(record: LogRecord): StreamRecord {
  return { key: `${record.host}/${record.service}`, value: Buffer.from(JSON.stringify(record)) };
}

/**
 * The tailer's consumer in a deployment: the batch goes to `cumulus.logs`, and the
 * tailer's offsets move only once the stream resolved (the records are durable there). Stable.
 */
export function streamLogConsumer(stream: Pick<Stream, 'send'>): LogConsumer {
  return {
    consume: (batch) => stream.send(TOPICS.logs, batch.map(logStreamRecord)),
  };
}
