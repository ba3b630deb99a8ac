export * from './types.ts';
export { computeSampleSignature, SampleSigner, signSample, verifySampleSignature, type UnsignedSample } from './sample-signature.ts';
export { CUMULUS_ID_NAMESPACE, deriveId, sampleId, metricId } from './ids.ts';
export { TOPICS, type TopicName } from './topics.ts';
export { decodeMeasureBatch, encodeMeasureBatch, isMeasureBatchRefusal, microsOfIso, samplesAsMeasureBatch, type DecodedMeasureBatch, type DecodedMeasureSeries, type MeasureBatch, type MeasureBatchFormat, type MeasureBatchRefusal, type MeasureSeries, type MeasureSeriesAttributes } from './measure-batch.ts';
