import { isoSeconds, type Image } from './image.ts';
import { CUSTOM_PROPERTIES } from './schema.ts';

/**
 * An image as glance's v2 ResponseSerializer shows it: custom properties flattened to
 * top-level fields beside the base attributes, times in seconds with `Z`, and the
 * relative `self`, `file` and `schema` links glance gives.
 */
export function imageView(image: Image): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(image.properties)) {
    // glance's Schema.filter turns a null custom property the schema does not declare into ''.
    view[key] = value === null && !Object.hasOwn(CUSTOM_PROPERTIES, key) ? '' : value;
  }
  return Object.assign(view, {
    name: image.name,
    disk_format: image.disk_format,
    container_format: image.container_format,
    visibility: image.visibility,
    size: image.size,
    virtual_size: image.virtual_size,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.min_ram,
    min_disk: image.min_disk,
    owner: image.owner,
    os_hidden: image.os_hidden,
    os_hash_algo: image.os_hash_algo,
    os_hash_value: image.os_hash_value,
    id: image.id,
    created_at: isoSeconds(image.created_at),
    updated_at: isoSeconds(image.updated_at),
    tags: [...image.tags],
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  });
}
