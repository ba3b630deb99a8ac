/** The stream topics between the collectors and the pipeline. Keyed by resource id. */
export const TOPICS = {
  samples: 'cumulus.samples',
  events: 'cumulus.events',
  audit: 'cumulus.audit',
  logs: 'cumulus.logs',
  dead: 'cumulus.dead',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
