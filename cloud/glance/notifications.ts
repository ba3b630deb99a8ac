import { isoSeconds, type Image } from './image.ts';

/** The image events glance's notifier proxies emit (glance/notifier.py), all at priority INFO. */
export const IMAGE_EVENTS = {
  create: 'image.create',
  update: 'image.update',
  prepare: 'image.prepare',
  upload: 'image.upload',
  activate: 'image.activate',
  delete: 'image.delete',
} as const;
export type ImageEvent = (typeof IMAGE_EVENTS)[keyof typeof IMAGE_EVENTS];

/**
 * glance.notifier.format_image_notification: the payload Ceilometer's meters.yaml reads
 * (`image.size` <- $.payload.size, resource <- $.payload.id, project <- $.payload.owner).
 * Custom properties stay nested under `properties` here, unlike in the API.
 */
export function imagePayload(image: Image): Record<string, unknown> {
  return {
    id: image.id,
    name: image.name,
    status: image.status,
    created_at: isoSeconds(image.created_at),
    updated_at: isoSeconds(image.updated_at),
    min_disk: image.min_disk,
    min_ram: image.min_ram,
    protected: image.protected,
    checksum: image.checksum,
    owner: image.owner,
    disk_format: image.disk_format,
    container_format: image.container_format,
    size: image.size,
    virtual_size: image.virtual_size,
    is_public: image.visibility === 'public',
    visibility: image.visibility,
    properties: { ...image.properties },
    tags: [...image.tags],
    deleted: false,
    deleted_at: null,
  };
}

/** What image.prepare and image.upload add: the import bookkeeping (ImageProxy._format_import_properties). */
export function importProperties(image: Image): Record<string, unknown> {
  const list = (value: string | null | undefined) => (value ? value.split(',') : []);
  return {
    os_glance_importing_to_stores: list(image.properties.os_glance_importing_to_stores),
    os_glance_failed_import: list(image.properties.os_glance_failed_import),
  };
}
