/**
 * collectors/logs: service logs into LogRecords for `cumulus.logs`. Parsers for oslo.log
 * (context and default formats, tracebacks), MariaDB, RabbitMQ and syslog lines, and a
 * polling tailer with durable offsets. Stable unless marked experimental.
 */
export { parseOsloLogLine, readOsloLine, OSLO_LEVELS } from './oslo-format.ts';
export { parseMariadbLogLine, parseRabbitmqLogLine, parseSyslogLine } from './daemon-formats.ts';
export { parseLogLine, readLogLine } from './parser.ts';
export { logRecordId, type LogLineSource, type LineFields, type ReadLine } from './line.ts';
export { RecordAssembler, type AssembledRecord, type AssemblerSource } from './assembler.ts';
export { LogTailer, createLogTailer, type LogConsumer, type LogTailerDeps } from './tailer.ts';
export { JsonFileOffsetStore, emptyOffsets, type LogOffsetStore, type LogOffsets, type FileOffset } from './offsets.ts';
export { logStreamRecord, streamLogConsumer } from './stream-consumer.ts';
export { LogOffsetsError } from './errors.ts';
export * from './config.ts';
