/**
 * Placement's tables (component `cloud.placement`), in migration order. Never edit a shipped
 * entry: append. Names carry a `placement_` prefix because the control plane shares one
 * database. Internal integer ids stand where Placement's schema has them, so joins stay cheap.
 */
export const PLACEMENT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE placement_resource_providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
    generation INTEGER NOT NULL DEFAULT 0,
    parent_provider_id INTEGER REFERENCES placement_resource_providers(id),
    root_provider_id INTEGER REFERENCES placement_resource_providers(id),
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX placement_rp_root ON placement_resource_providers (root_provider_id);
  CREATE INDEX placement_rp_parent ON placement_resource_providers (parent_provider_id);

  CREATE TABLE placement_resource_classes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);

  CREATE TABLE placement_inventories (
    resource_provider_id INTEGER NOT NULL REFERENCES placement_resource_providers(id),
    resource_class_id INTEGER NOT NULL REFERENCES placement_resource_classes(id),
    total INTEGER NOT NULL, reserved INTEGER NOT NULL, min_unit INTEGER NOT NULL, max_unit INTEGER NOT NULL,
    step_size INTEGER NOT NULL, allocation_ratio REAL NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (resource_provider_id, resource_class_id));
  CREATE INDEX placement_inventories_class ON placement_inventories (resource_class_id);

  CREATE TABLE placement_consumer_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);

  CREATE TABLE placement_consumers (
    uuid TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    consumer_type_id INTEGER REFERENCES placement_consumer_types(id),
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX placement_consumers_project ON placement_consumers (project_id, user_id);

  CREATE TABLE placement_allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_provider_id INTEGER NOT NULL REFERENCES placement_resource_providers(id),
    resource_class_id INTEGER NOT NULL REFERENCES placement_resource_classes(id),
    consumer_id TEXT NOT NULL, used INTEGER NOT NULL, created_at TEXT NOT NULL);
  CREATE INDEX placement_allocations_provider ON placement_allocations (resource_provider_id, resource_class_id);
  CREATE INDEX placement_allocations_consumer ON placement_allocations (consumer_id);

  CREATE TABLE placement_traits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);

  CREATE TABLE placement_provider_traits (
    resource_provider_id INTEGER NOT NULL REFERENCES placement_resource_providers(id),
    trait_id INTEGER NOT NULL REFERENCES placement_traits(id),
    PRIMARY KEY (resource_provider_id, trait_id));
  CREATE INDEX placement_provider_traits_trait ON placement_provider_traits (trait_id);

  CREATE TABLE placement_provider_aggregates (
    resource_provider_id INTEGER NOT NULL REFERENCES placement_resource_providers(id),
    aggregate_uuid TEXT NOT NULL,
    PRIMARY KEY (resource_provider_id, aggregate_uuid));
  CREATE INDEX placement_provider_aggregates_uuid ON placement_provider_aggregates (aggregate_uuid);
  `,
];
