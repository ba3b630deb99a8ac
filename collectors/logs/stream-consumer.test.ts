import { describe, expect, it } from 'vitest';
import { TOPICS, type LogRecord, type StreamRecord } from '../../core/index.ts';
import { logStreamRecord, streamLogConsumer } from './stream-consumer.ts';

const record: LogRecord = {
  id: 'id-1',
  timestamp: '2026-11-24T17:00:01.098+00:00',
  service: 'nova-compute',
  host: 'compute-1',
  pid: 2211,
  level: 'INFO',
  logger: 'nova.compute.manager',
  request_id: null,
  user_id: null,
  project_id: null,
  message: 'hello',
};

describe('streamLogConsumer', () => {
  it('sends the batch to cumulus.logs keyed by host and service, and resolves once the stream did', async () => {
    const sent: Array<{ topic: string; records: readonly StreamRecord[] }> = [];
    const consumer = streamLogConsumer({ send: async (topic, records) => void sent.push({ topic, records }) });
    await consumer.consume([record]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.topic).toBe(TOPICS.logs);
    expect(sent[0]?.records[0]?.key).toBe('compute-1/nova-compute');
    expect(JSON.parse(sent[0]?.records[0]?.value.toString('utf8') as string)).toEqual(record);
  });

  it('rejects when the stream does, which the tailer takes as "offer again"', async () => {
    const consumer = streamLogConsumer({ send: async () => Promise.reject(new Error('kafka down')) });
    await expect(consumer.consume([record])).rejects.toThrow('kafka down');
    expect(logStreamRecord(record).key).toBe('compute-1/nova-compute');
  });
});
