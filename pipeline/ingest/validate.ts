import { SAMPLE_TYPES, verifySampleSignature, type Sample } from '../../core/index.ts';

export interface Refusal {
  code: string;
  reason: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks one stream record is a well-formed, correctly signed sample. */
export function validateSample(value: Buffer, secret: string): Sample | Refusal {
  let sample: Sample;
  try {
    sample = JSON.parse(value.toString('utf8')) as Sample;
  } catch (err) {
    return { code: 'CUMULUS_PIPELINE_MALFORMED_JSON', reason: `record is not JSON: ${(err as Error).message}` };
  }
  if (sample === null || typeof sample !== 'object') return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: 'record must be a JSON object' };
  if (typeof sample.id !== 'string' || !UUID.test(sample.id)) return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: `id must be a UUID, got ${JSON.stringify(sample.id)}` };
  if (typeof sample.name !== 'string' || sample.name === '') return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: 'name must be a non-empty string' };
  if (!SAMPLE_TYPES.includes(sample.type)) return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: `type must be one of ${SAMPLE_TYPES.join(', ')}, got ${JSON.stringify(sample.type)}` };
  if (typeof sample.volume !== 'number' || !Number.isFinite(sample.volume)) return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: `volume must be a finite number, got ${JSON.stringify(sample.volume)}` };
  if (typeof sample.resource_id !== 'string' || sample.resource_id === '') return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: 'resource_id must be a non-empty string' };
  if (typeof sample.timestamp !== 'string' || Number.isNaN(Date.parse(sample.timestamp))) return { code: 'CUMULUS_PIPELINE_MALFORMED_SAMPLE', reason: `timestamp must be ISO 8601, got ${JSON.stringify(sample.timestamp)}` };
  if (!verifySampleSignature(sample, secret)) return { code: 'CUMULUS_PIPELINE_BAD_SIGNATURE', reason: `sample ${sample.id} has a missing or forged message_signature` };
  return sample;
}

export function isRefusal(result: Sample | Refusal): result is Refusal {
  return (result as Refusal).code !== undefined && (result as Sample).name === undefined;
}
