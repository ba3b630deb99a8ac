import { DEDUP_WINDOW, type Migration } from './types.ts';

/**
 * The resource index's revisions, as Gnocchi keeps them: `resources` holds each
 * resource's current revision, `resource_history` every closed one with its
 * revision_end. Every statement is idempotent.
 */
export const RESOURCE_HISTORY: Migration = {
  id: 3,
  name: 'resource history and typed attribute generations',
  statements: [
    // Closed revisions: the state a resource had from revision_start to revision_end.
    // Keyed by (id, revision_start), so a revision written twice (a replayed batch) is one row.
    `CREATE TABLE IF NOT EXISTS resource_history (
      id String,
      type String,
      project_id String,
      user_id String,
      started_at DateTime64(6, 'UTC'),
      ended_at Nullable(DateTime64(6, 'UTC')),
      revision_start DateTime64(6, 'UTC'),
      revision_end DateTime64(6, 'UTC'),
      attributes String,
      type_generation UInt32
    ) ENGINE = ReplacingMergeTree ORDER BY (id, revision_start)
    SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
    // The type's generation a row was written under: an attribute added later (or removed
    // and added again) reads as its fill on older rows, not as a stale value.
    'ALTER TABLE resources ADD COLUMN IF NOT EXISTS type_generation UInt32 DEFAULT 0',
    // So an index write retried with the same deduplication token is dropped.
    `ALTER TABLE resources MODIFY SETTING non_replicated_deduplication_window = ${DEDUP_WINDOW}`,
  ],
};
