/** The stream topics between the collectors and the pipeline. Keyed by resource id. */
export const TOPICS = {
  samples: 'cumulus.samples',
  /** Signed measure batches (measure-batch.ts): many measures of a metric per record. */
  measureBatches: 'cumulus.measure-batches',
  events: 'cumulus.events',
  audit: 'cumulus.audit',
  logs: 'cumulus.logs',
  dead: 'cumulus.dead',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
