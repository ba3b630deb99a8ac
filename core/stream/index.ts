export * from './types.ts';
export { InProcessStream, DEFAULT_IN_PROCESS_PARTITIONS } from './in-process.ts';
export { KafkaStream, DEFAULT_KAFKA_PARTITIONS, DEFAULT_KAFKA_REPLICATION_FACTOR, type KafkaStreamConfig } from './kafka.ts';
