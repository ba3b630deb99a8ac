import type { Clock, DeadLetter } from '../core/index.ts';

/** Builds the dead-letter record for bytes a stage could not accept. */
export function deadLetter(clock: Clock, code: string, reason: string, origin: DeadLetter['origin'], payload: Buffer): DeadLetter {
  return { stage: 'collector', code, reason, origin, payload_base64: payload.toString('base64'), refused_at: clock.now().toISOString() };
}
