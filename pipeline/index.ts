/** pipeline/: from the stream into ClickHouse under Gnocchi-style archive policies. */
export { createSampleWriter, type SampleWriterDeps } from './ingest/sample-writer.ts';
export * from './ingest/config.ts';
export { validateSample } from './ingest/validate.ts';
