import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Sample } from './types.ts';

/**
 * Canonical JSON: keys sorted at every depth, so the signer and the verifier hash the
 * same bytes whatever order a serializer wrote the fields in.
 */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (canonical(value[i]) ?? '');
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonical(item)}`;
  }
  return `${out}}`;
}

/** HMAC-SHA256 (hex) over every field but the signature itself, like Ceilometer's compute_signature. */
export function computeSampleSignature(sample: Omit<Sample, 'message_signature'> | Sample, secret: string): string {
  const { message_signature: _ignored, ...signed } = sample as Sample;
  return createHmac('sha256', secret).update(canonical(signed)).digest('hex');
}

export function signSample(sample: Omit<Sample, 'message_signature'>, secret: string): Sample {
  return { ...sample, message_signature: computeSampleSignature(sample, secret) };
}

/** Constant-time check; false for a missing, malformed or forged signature. */
export function verifySampleSignature(sample: Sample, secret: string): boolean {
  if (typeof sample.message_signature !== 'string' || !/^[0-9a-f]{64}$/.test(sample.message_signature)) return false;
  const expected = Buffer.from(computeSampleSignature(sample, secret), 'hex');
  const given = Buffer.from(sample.message_signature, 'hex');
  return timingSafeEqual(expected, given);
}
