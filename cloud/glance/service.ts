import { randomUUID } from 'node:crypto';
import type { Clock, StateDatabase } from '../../core/index.ts';
import { CloudApiError } from '../errors.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { DEFAULT_PUBLISHER_ID, DEFAULT_VISIBILITY, GLANCE_EXCHANGE, HASH_ALGORITHM } from './config.ts';
import { conflict, forbiddenBecause, GLANCE_ERRORS, imageNotFound, invalid, notAuthorized, protectedImage, statusTransition } from './errors.ts';
import { IMAGE_ATTRIBUTES, isoSeconds, isVisible, STATUS_TARGETS, type Image, type ImageStatus, type Viewer, type Visibility } from './image.ts';
import { IMAGE_EVENTS, imagePayload, importProperties, type ImageEvent } from './notifications.ts';
import { idTaken, imageById, listImages, type SqlQuery } from './queries.ts';
import { nonNegative, type CreateImageRequest, type ImageChange, type ImageListRequest } from './requests.ts';
import type { UploadedData } from './upload.ts';

interface ImageRow extends Omit<Image, 'protected' | 'os_hidden' | 'tags' | 'properties'> {
  protected: number;
  os_hidden: number;
  tags: string;
  properties: string;
}

const toImage = (row: ImageRow): Image => ({
  id: row.id,
  name: row.name,
  status: row.status,
  visibility: row.visibility,
  owner: row.owner,
  size: row.size,
  virtual_size: row.virtual_size,
  checksum: row.checksum,
  os_hash_algo: row.os_hash_algo,
  os_hash_value: row.os_hash_value,
  disk_format: row.disk_format,
  container_format: row.container_format,
  min_disk: row.min_disk,
  min_ram: row.min_ram,
  protected: row.protected === 1,
  os_hidden: row.os_hidden === 1,
  tags: JSON.parse(row.tags) as string[],
  properties: JSON.parse(row.properties) as Record<string, string | null>,
  created_at: row.created_at,
  updated_at: row.updated_at,
  deleted_at: row.deleted_at,
});

/** The row values of an image, in the column order of INSERT and UPDATE below. */
const columns = (image: Image) => ({
  id: image.id,
  name: image.name,
  status: image.status,
  visibility: image.visibility,
  owner: image.owner,
  size: image.size,
  virtual_size: image.virtual_size,
  checksum: image.checksum,
  os_hash_algo: image.os_hash_algo,
  os_hash_value: image.os_hash_value,
  disk_format: image.disk_format,
  container_format: image.container_format,
  min_disk: image.min_disk,
  min_ram: image.min_ram,
  protected: image.protected ? 1 : 0,
  os_hidden: image.os_hidden ? 1 : 0,
  tags: JSON.stringify(image.tags),
  properties: JSON.stringify(image.properties),
  created_at: image.created_at,
  updated_at: image.updated_at,
  deleted_at: image.deleted_at,
});
const COLUMN_NAMES: readonly string[] = [
  'id', 'name', 'status', 'visibility', 'owner', 'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'disk_format',
  'container_format', 'min_disk', 'min_ram', 'protected', 'os_hidden', 'tags', 'properties', 'created_at', 'updated_at', 'deleted_at',
];

/** Nulls sort first, as in the SQL databases glance runs on. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

export const viewerOf = (context: RequestContext): Viewer => ({ isAdmin: context.isAdmin, projectId: context.projectId });

/**
 * Glance's image API logic on SQLite: the image state machine (queued -> saving ->
 * active -> deleted), visibility and ownership rules, and the notifications glance's
 * notifier proxies emit. Image data is hashed on the way in but not kept.
 */
export class GlanceService {
  constructor(
    private readonly db: StateDatabase,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly publisherId: string = DEFAULT_PUBLISHER_ID,
  ) {}

  private one(query: SqlQuery): Image | undefined {
    const row = this.db.prepare(query.sql).get(query.params) as ImageRow | undefined;
    return row ? toImage(row) : undefined;
  }

  /**
   * An image as `projectId` sees it (null: any project, for admins and other services,
   * e.g. Nova reading os_distro); 404 when it is not visible, so existence does not leak.
   */
  get(id: string, projectId: string | null): Image {
    return this.show(id, GlanceService.viewerFor(projectId));
  }

  /** Like get(), undefined instead of a 404. */
  find(id: string, projectId: string | null): Image | undefined {
    return this.lookup(id, GlanceService.viewerFor(projectId));
  }

  private static viewerFor(projectId: string | null): Viewer {
    return projectId === null ? { isAdmin: true, projectId: null } : { isAdmin: false, projectId };
  }

  private lookup(id: string, viewer: Viewer): Image | undefined {
    const image = this.one(imageById(id));
    return image && isVisible(image, viewer) ? image : undefined;
  }

  /** An image the viewer may see, or glance's 404. */
  show(id: string, viewer: Viewer): Image {
    const image = this.lookup(id, viewer);
    if (!image) throw imageNotFound(id);
    return image;
  }

  /** One page of the images a viewer may list, and the marker of the next page when this one is full. */
  list(viewer: Viewer, request: ImageListRequest): { images: Image[]; nextMarker: string | null } {
    const query = listImages(viewer, request.filters);
    let images = (this.db.prepare(query.sql).all(query.params) as ImageRow[]).map(toImage);
    const compare = (a: Image, b: Image): number => {
      for (const { key, dir } of request.sort) {
        const order = compareValues(a[key], b[key]);
        if (order !== 0) return dir === 'asc' ? order : -order;
      }
      return 0;
    };
    images.sort(compare);
    if (request.marker !== null) {
      const marker = this.lookup(request.marker, viewer);
      if (!marker) throw invalid(`No image found with ID ${request.marker}`);
      images = images.filter((image) => compare(image, marker) > 0);
    }
    const page = images.slice(0, request.limit);
    const last = page[page.length - 1];
    return { images: page, nextMarker: last && page.length === request.limit ? last.id : null };
  }

  private canModify(image: Image, context: RequestContext): boolean {
    return context.isAdmin || (context.projectId !== null && image.owner === context.projectId && context.roles.includes('member'));
  }

  /** publicize_image is admin-only; communitize_image needs a member of the owning project. */
  private authorizeVisibility(visibility: unknown, owner: string | null, context: RequestContext): void {
    if (visibility === 'public' && !context.isAdmin) throw notAuthorized('publicize_image');
    if (visibility === 'community' && !context.isAdmin && !(context.roles.includes('member') && owner === context.projectId)) throw notAuthorized('communitize_image');
  }

  private async emit(event: ImageEvent, image: Image, context: RequestContext, extra: Record<string, unknown> = {}): Promise<void> {
    await this.notifier.notify({ exchange: GLANCE_EXCHANGE, publisherId: this.publisherId, eventType: event, priority: 'INFO', payload: { ...imagePayload(image), ...extra }, context });
  }

  private save(image: Image): void {
    const values = columns(image);
    this.db.prepare(`UPDATE glance_images SET ${COLUMN_NAMES.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run(values);
  }

  /** POST /v2/images: a queued image without data, owned by the caller's project unless an admin names another. */
  async create(request: CreateImageRequest, context: RequestContext): Promise<Image> {
    const owner = request.owner ?? context.projectId;
    if (request.owner !== null && request.owner !== context.projectId && !context.isAdmin) throw forbiddenBecause(`You are not permitted to create images owned by '${request.owner}'.`);
    if (!context.isAdmin && !(context.projectId !== null && context.roles.includes('member'))) throw notAuthorized('add_image');
    this.authorizeVisibility(request.visibility, owner, context);
    const id = request.id ?? randomUUID();
    const taken = idTaken(id);
    if (this.db.prepare(taken.sql).get(taken.params)) throw conflict(`Image ID ${id} already exists!`);
    const now = this.clock.now().toISOString();
    const image: Image = {
      id,
      name: request.name,
      status: 'queued',
      visibility: request.visibility ?? DEFAULT_VISIBILITY,
      owner,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      disk_format: request.disk_format,
      container_format: request.container_format,
      min_disk: request.min_disk,
      min_ram: request.min_ram,
      protected: request.protected,
      os_hidden: request.os_hidden,
      tags: request.tags,
      properties: request.properties,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
    this.db.prepare(`INSERT INTO glance_images (${COLUMN_NAMES.join(', ')}) VALUES (${COLUMN_NAMES.map((c) => `@${c}`).join(', ')})`).run(columns(image));
    await this.emit(IMAGE_EVENTS.create, image, context);
    return image;
  }

  /** The status change glance's Image.status setter allows, or its refusal. */
  private static transition(image: Image, to: ImageStatus): void {
    if (!STATUS_TARGETS[image.status].includes(to)) throw statusTransition(image.status, to);
    if ((image.status === 'queued' || image.status === 'uploading') && (to === 'saving' || to === 'active' || to === 'importing')) {
      const missing = (['disk_format', 'container_format'] as const).filter((k) => !image[k]);
      if (missing.length === 1) throw invalid(`Property ${missing[0]} must be set prior to saving data.`);
      if (missing.length > 1) throw invalid(`Properties ${missing.join(', ')} must be set prior to saving data.`);
    }
  }

  /**
   * PUT /v2/images/{id}/file, after the body was read and hashed. Glance's upload runs
   * two saves around the data: queued -> saving (image.update), then the store write
   * (image.prepare, image.upload, image.activate), then the active image saved (image.update).
   */
  async upload(id: string, data: UploadedData, context: RequestContext): Promise<Image> {
    const image = this.show(id, viewerOf(context));
    if (!this.canModify(image, context)) throw notAuthorized('upload_image');
    GlanceService.transition(image, 'saving');
    // 1. persist `saving` first, so a concurrent second upload is refused with 409.
    const saving: Image = { ...image, status: 'saving', updated_at: this.clock.now().toISOString() };
    this.save(saving);
    await this.emit(IMAGE_EVENTS.update, saving, context);
    await this.emit(IMAGE_EVENTS.prepare, saving, context, importProperties(saving));
    // 2. the data is in (we keep its size and hashes only): the image turns active and is persisted
    //    before the upload is announced, so a consumer reacting to image.upload reads it active.
    // glance's format inspector: a raw image's virtual size is its size, a qcow2 one's is in its header.
    const virtualSize = saving.disk_format === 'raw' ? data.size : saving.disk_format === 'qcow2' ? data.qcow2VirtualSize : null;
    const active: Image = {
      ...saving,
      status: 'active',
      size: data.size,
      virtual_size: virtualSize,
      checksum: data.checksum,
      os_hash_algo: HASH_ALGORITHM,
      os_hash_value: data.hashValue,
      updated_at: this.clock.now().toISOString(),
    };
    this.save(active);
    // 3. announce in glance's order: upload, activate, then the second save's update.
    await this.emit(IMAGE_EVENTS.upload, active, context, importProperties(active));
    await this.emit(IMAGE_EVENTS.activate, active, context);
    await this.emit(IMAGE_EVENTS.update, active, context);
    return active;
  }

  /** Sets a base attribute the way glance's domain Image setters do. */
  private static setAttribute(image: Image, name: string, value: unknown): void {
    switch (name) {
      case 'name':
        image.name = value as string | null;
        return;
      case 'visibility':
        image.visibility = value as Visibility;
        return;
      case 'owner':
        image.owner = value as string | null;
        return;
      case 'protected':
        image.protected = value as boolean;
        return;
      case 'os_hidden':
        image.os_hidden = value as boolean;
        return;
      case 'min_disk':
        image.min_disk = nonNegative('min_disk', value);
        return;
      case 'min_ram':
        image.min_ram = nonNegative('min_ram', value);
        return;
      case 'tags':
        image.tags = [...new Set(value as string[])];
        return;
      case 'disk_format':
      case 'container_format':
        if (image.status !== 'queued' && image.status !== 'importing') throw forbiddenBecause(`Attribute ${name} can be only replaced for a queued image.`);
        image[name] = value as string | null;
        return;
      default:
        throw forbiddenBecause(`Attribute '${name}' is read-only.`);
    }
  }

  /** PATCH /v2/images/{id}: applies every change or none, then saves once (one image.update). */
  async update(id: string, changes: readonly ImageChange[], context: RequestContext): Promise<Image> {
    const image = this.show(id, viewerOf(context));
    if (changes.length === 0) return image;
    const next: Image = { ...image, tags: [...image.tags], properties: { ...image.properties } };
    for (const change of changes) {
      const name = change.path[0] ?? '';
      if (name === 'visibility') this.authorizeVisibility(change.value, next.owner, context);
      if (!this.canModify(image, context)) throw notAuthorized('modify_image');
      const isAttribute = IMAGE_ATTRIBUTES.includes(name);
      if (change.op === 'remove') {
        if (isAttribute) throw forbiddenBecause(`Property ${name} may not be removed.`);
        if (!Object.hasOwn(next.properties, name)) throw conflict(`Property ${name} does not exist.`);
        delete next.properties[name];
      } else if (change.op === 'replace') {
        if (name === 'owner' && !context.isAdmin) throw forbiddenBecause("Owner can't be updated by non admin.");
        if (isAttribute) GlanceService.setAttribute(next, name, change.value);
        else if (Object.hasOwn(next.properties, name)) next.properties[name] = change.value as string | null;
        else throw conflict(`Property ${name} does not exist.`);
      } else {
        // add: draft 4 (v2.0-json-patch) refuses an existing member, draft 10 (v2.1) replaces it.
        if (change.draft === 4 && (isAttribute || Object.hasOwn(next.properties, name))) throw conflict(`Property ${name} already present.`);
        if (isAttribute) GlanceService.setAttribute(next, name, change.value);
        else next.properties[name] = change.value as string | null;
      }
    }
    next.updated_at = this.clock.now().toISOString();
    this.save(next);
    await this.emit(IMAGE_EVENTS.update, next, context);
    return next;
  }

  /** PUT /v2/images/{id}/tags/{tag}. */
  async addTag(id: string, tag: string, context: RequestContext): Promise<void> {
    const image = this.show(id, viewerOf(context));
    if (!this.canModify(image, context)) throw notAuthorized('modify_image');
    if ([...tag].length > 255) throw invalid(`Provided object does not match schema 'image': '${tag}' is too long`);
    const next: Image = { ...image, tags: [...new Set([...image.tags, tag])], updated_at: this.clock.now().toISOString() };
    this.save(next);
    await this.emit(IMAGE_EVENTS.update, next, context);
  }

  /** DELETE /v2/images/{id}/tags/{tag}. */
  async removeTag(id: string, tag: string, context: RequestContext): Promise<void> {
    const image = this.show(id, viewerOf(context));
    if (!this.canModify(image, context)) throw notAuthorized('modify_image');
    if (!image.tags.includes(tag)) throw new CloudApiError(GLANCE_ERRORS.imageNotFound, 404, 'The resource could not be found.');
    const next: Image = { ...image, tags: image.tags.filter((t) => t !== tag), updated_at: this.clock.now().toISOString() };
    this.save(next);
    await this.emit(IMAGE_EVENTS.update, next, context);
  }

  /** DELETE /v2/images/{id}: protected images refuse; the row stays, marked deleted, so its id is never reused. */
  async delete(id: string, context: RequestContext): Promise<void> {
    const image = this.lookup(id, viewerOf(context));
    if (!image) throw new CloudApiError(GLANCE_ERRORS.imageNotFound, 404, `Failed to find image ${id} to delete`);
    if (!this.canModify(image, context)) throw notAuthorized('delete_image');
    if (image.protected) throw protectedImage(id);
    GlanceService.transition(image, 'deleted');
    const now = this.clock.now().toISOString();
    const deleted: Image = { ...image, status: 'deleted', updated_at: now, deleted_at: now };
    this.db.prepare("UPDATE glance_images SET status = 'deleted', updated_at = @now, deleted_at = @now, deleted = 1 WHERE id = @id").run({ id, now });
    await this.emit(IMAGE_EVENTS.delete, deleted, context, { deleted: true, deleted_at: isoSeconds(now) });
  }
}
