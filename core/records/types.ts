/**
 * The records that flow from the collectors through the stream to the pipeline.
 * Field names follow Ceilometer's (samples) and Panko's (events) so captured data and
 * operators' tools read the same. Stable contract: add fields, never rename.
 */

export type SampleType = 'gauge' | 'delta' | 'cumulative';
export const SAMPLE_TYPES: readonly SampleType[] = ['gauge', 'delta', 'cumulative'];

export interface Sample {
  /** Deterministic: derived from the source message, so a redelivered message yields the same id. */
  id: string;
  name: string;
  type: SampleType;
  unit: string;
  volume: number;
  user_id: string | null;
  project_id: string | null;
  resource_id: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  resource_metadata: Record<string, unknown>;
  /** Where the sample comes from, e.g. `openstack`. */
  source: string;
  /** The oslo.messaging message_id (or poll id) the sample was derived from. */
  message_id: string;
  /** HMAC-SHA256 of the sample's other fields with the metering secret. */
  message_signature: string;
}

export type TraitType = 'string' | 'int' | 'float' | 'datetime';

export interface Trait {
  name: string;
  type: TraitType;
  value: string | number;
}

export interface Event {
  message_id: string;
  event_type: string;
  /** ISO 8601, UTC. */
  generated: string;
  traits: Trait[];
  raw: Record<string, unknown>;
}

/** A CADF event, flattened to the 7 Ws for querying, with the raw event kept. */
export interface AuditRecord {
  id: string;
  /** what */
  action: string;
  outcome: string;
  event_type: string;
  type_uri: string;
  /** when (ISO 8601, UTC) */
  event_time: string;
  /** who */
  initiator_id: string;
  initiator_type: string;
  initiator_name: string | null;
  project_id: string | null;
  /** from where */
  initiator_address: string | null;
  initiator_agent: string | null;
  /** on what */
  target_id: string;
  target_type: string;
  /** where */
  observer_id: string;
  observer_type: string;
  /** to where */
  target_address: string | null;
  reason_code: string | null;
  request_id: string | null;
  raw: Record<string, unknown>;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface LogRecord {
  id: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  service: string;
  host: string;
  pid: number;
  level: LogLevel;
  logger: string;
  request_id: string | null;
  user_id: string | null;
  project_id: string | null;
  message: string;
}

/** A record a stage could not accept, kept with its reason and original bytes. */
export interface DeadLetter {
  /** Where it was refused: `collector`, `pipeline`, ... */
  stage: string;
  /** A stable code, e.g. CUMULUS_COLLECTOR_MALFORMED_JSON. */
  code: string;
  reason: string;
  /** Where it came from: exchange/routing key, or topic/partition/offset. */
  origin: Record<string, string | number>;
  /** The original bytes, base64. */
  payload_base64: string;
  /** ISO 8601, UTC. */
  refused_at: string;
}
