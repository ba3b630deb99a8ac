import { deriveId, SAMPLE_TYPES, sampleId, SampleSigner, type Sample, type SampleType } from '../../core/index.ts';
import { MalformedNotificationError, type Notification } from '../notifications/envelope.ts';
import { DEFAULT_RESERVED_METADATA, DEFAULT_SAMPLE_SOURCE, type ReservedMetadataConfig } from './config.ts';
import { SAMPLE_ATTRIBUTES, type Field, type MeterDefinition, type SampleAttribute } from './definitions.ts';
import { MAPPING_ERROR_CODES } from './errors.ts';
import { JsonPathEvaluationError } from './jsonpath/index.ts';
import { isDict, pyFloat, pyStr, truthy } from './python.ts';
import { formatIsoTime, parseIsoTime } from './timestamps.ts';

/** A sample Ceilometer would drop (with a warning) while keeping the notification's other samples. */
export interface DroppedSample {
  meter: string;
  message_id: string;
  event_type: string;
  reason: string;
}

export interface MeterMapperOptions {
  /** Ceilometer's `sample_source` (default `openstack`). */
  source?: string;
  /** Told of every sample dropped, so the collector can log and count it. */
  onDrop?: (drop: DroppedSample) => void;
  reservedMetadata?: ReservedMetadataConfig;
  /**
   * Take user_id / project_id from the request context when a definition gives none
   * (default true), as Ceilometer means to. Ceilometer 19's fallback jsonpath never
   * matches (docs/collectors.md); false reproduces that exactly.
   */
  contextFallback?: boolean;
}

/**
 * The message Ceilometer's definitions read, as oslo.messaging's notification dispatcher
 * builds it: only these keys, the `_context_*` keys under `ctxt`, and message_id and
 * timestamp under `metadata`.
 */
interface MessageView {
  ctxt: Record<string, unknown>;
  publisher_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  metadata: { message_id: string; timestamp: string };
}

/** A sample as Ceilometer's MeterDefinition.to_samples yields it: values as read, not yet checked. */
type RawSample = Record<SampleAttribute, unknown> & { metadata: Record<string, unknown> };

/** A definition with the sample attributes it sets, in Ceilometer's order. */
interface Plan {
  definition: MeterDefinition;
  fields: ReadonlyArray<readonly [SampleAttribute, Field]>;
}

/** One notification's metadata for definitions written with the same metadata. */
interface SharedMetadata {
  fields: MeterDefinition['metadata'];
  user: Field | null;
  value: Record<string, unknown>;
}

const PRIORITIES = new Set(['info', 'sample']);
const NONE = undefined;

function firstOf(context: Record<string, unknown>, key: string, otherKey: string): unknown {
  const value = context[key];
  if (value !== null && value !== undefined) return value;
  const other = context[otherKey];
  return other === null ? NONE : other;
}

/** A sample id field (user, project, resource) as a string; Python would keep any JSON value. */
function idString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : pyStr(value);
}

/** A user metadata value, a string cut to the reserved length (Python `s[:n]`, on code points). */
function reservedValue(value: unknown, maxChars: number): unknown {
  if (typeof value !== 'string' || value.length <= maxChars) return value;
  const chars = Array.from(value);
  return chars.length <= maxChars ? value : chars.slice(0, maxChars).join('');
}

/**
 * Turns notifications into signed samples with meter definitions in Ceilometer's
 * meters.yaml format, the way Ceilometer 19's notification agent does (see
 * docs/collectors.md for where Cumulus deliberately differs):
 *  - only `info` and `sample` notifications are metered;
 *  - a field that finds nothing leaves the definition's default (the context's user and
 *    project, else None); metadata keeps the truthy values only, and with no metadata at
 *    all the sample's resource_metadata is the payload plus event_type and host;
 *  - a sample whose volume is missing or not a number is dropped, the notification's
 *    other samples are kept;
 *  - what makes Ceilometer lose the whole notification (a jsonpath raising, a time it
 *    cannot parse, a volume that is a container) refuses it here, with a coded
 *    MalformedNotificationError, so the listener dead-letters it for replay.
 * Stable API: `new MeterMapper(definitions, secret, options)` and `map()`.
 */
export class MeterMapper {
  private readonly cache = new Map<string, readonly Plan[]>();
  private readonly plans: readonly Plan[];
  private readonly source: string;
  private readonly reserved: ReservedMetadataConfig;
  private readonly contextFallback: boolean;
  private readonly onDrop: ((drop: DroppedSample) => void) | undefined;
  private readonly signer: SampleSigner;
  // The last time read and how it was written: a notification's samples mostly share one.
  private lastTime: unknown = undefined;
  private lastTimeWritten = '';

  constructor(
    definitions: readonly MeterDefinition[],
    secret: string,
    options: MeterMapperOptions = {},
  ) {
    this.signer = new SampleSigner(secret);
    this.source = options.source ?? DEFAULT_SAMPLE_SOURCE;
    this.reserved = options.reservedMetadata ?? DEFAULT_RESERVED_METADATA;
    this.contextFallback = options.contextFallback ?? true;
    this.onDrop = options.onDrop;
    this.plans = definitions.map((definition) => ({
      definition,
      fields: SAMPLE_ATTRIBUTES.flatMap((attribute) => {
        const field = definition.attributes[attribute];
        return field ? [[attribute, field] as const] : [];
      }),
    }));
  }

  private plansFor(eventType: string): readonly Plan[] {
    let found = this.cache.get(eventType);
    if (!found) {
      found = this.plans.filter((p) => p.definition.eventTypes.some((re) => re.test(eventType)));
      // Event types are few; the bound only guards against a flood of made-up ones.
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(eventType, found);
    }
    return found;
  }

  map(notification: Notification): Sample[] {
    if (!PRIORITIES.has(notification.priority.toLowerCase())) return [];
    const plans = this.plansFor(notification.event_type);
    if (plans.length === 0) return [];
    const view: MessageView = {
      ctxt: notification.context,
      publisher_id: notification.publisher_id,
      event_type: notification.event_type,
      payload: notification.payload,
      metadata: { message_id: notification.message_id, timestamp: notification.timestamp },
    };
    const drops: Array<readonly [unknown, string]> = [];

    // 1. every definition's samples, as Ceilometer builds them before publishing any
    const raw: RawSample[] = [];
    let shared: SharedMetadata | null = null;
    for (const plan of plans) {
      try {
        shared = this.collect(plan, view, raw, drops, shared);
      } catch (err) {
        if (!(err instanceof JsonPathEvaluationError)) throw err;
        throw new MalformedNotificationError(
          MAPPING_ERROR_CODES.fieldFailed,
          `meter ${plan.definition.name}: ${err.message}, on ${notification.event_type} ${notification.message_id}; Ceilometer loses the whole notification here too`,
        );
      }
    }
    // 2. times, then volumes: either failing loses the whole notification in Ceilometer
    const times: string[] = [];
    for (const sample of raw) times.push(this.time(sample, view, notification));
    const volumes: Array<number | string> = [];
    for (const sample of raw) volumes.push(this.volume(sample, notification));
    // 3. the samples that pass, signed
    const samples: Sample[] = [];
    let ids: Set<string> | null = null;
    // One object for the notification's samples that fall back to the payload, so it is serialized once for their signatures.
    let payloadMetadata: Record<string, unknown> | null = null;
    for (let i = 0; i < raw.length; i++) {
      const sample = raw[i] as RawSample;
      const volume = volumes[i] as number | string;
      if (typeof volume === 'string') {
        drops.push([sample.name, volume]);
        continue;
      }
      const checked = this.check(sample);
      if (typeof checked === 'string') {
        drops.push([sample.name, checked]);
        continue;
      }
      let id = sampleId(notification.message_id, checked.name, checked.resourceId);
      if (raw.length > 1) {
        // A lookup can give one resource several samples of one name: keep each distinct.
        ids ??= new Set();
        for (let n = 1; ids.has(id); n++) id = deriveId('sample', notification.message_id, checked.name, checked.resourceId, String(n));
        ids.add(id);
      }
      const metadata = truthy(sample.metadata) ? sample.metadata : (payloadMetadata ??= { ...notification.payload, event_type: notification.event_type, host: notification.publisher_id });
      // Built with its final keys, then signed in place: no copy per sample.
      const signed: Sample = {
        id,
        name: checked.name,
        type: checked.type,
        unit: checked.unit,
        volume,
        user_id: idString(sample.user_id),
        project_id: idString(sample.project_id),
        resource_id: checked.resourceId,
        timestamp: times[i] as string,
        resource_metadata: metadata,
        source: this.source,
        message_id: notification.message_id,
        message_signature: '',
      };
      signed.message_signature = this.signer.compute(signed);
      samples.push(signed);
    }
    if (this.onDrop) {
      for (const [meter, reason] of drops) this.onDrop({ meter: pyStr(meter), message_id: notification.message_id, event_type: notification.event_type, reason });
    }
    return samples;
  }

  /** The metadata of a definition (Ceilometer reads it per definition; definitions written alike share it here). */
  private metadataOf(definition: MeterDefinition, view: MessageView, previous: SharedMetadata | null): SharedMetadata {
    if (previous && previous.fields === definition.metadata && previous.user === definition.userMetadata) return previous;
    const metadata: Record<string, unknown> = {};
    for (const [key, field] of definition.metadata) {
      const value = field.first(view);
      if (truthy(value)) metadata[key] = value;
    }
    if (definition.userMetadata) {
      const user = definition.userMetadata.first(view);
      if (truthy(user)) {
        if (!isDict(user)) throw new JsonPathEvaluationError(`user_metadata ${definition.userMetadata.source} is a ${Array.isArray(user) ? 'list' : typeof user}, not a mapping`);
        this.addUserMetadata(user, metadata);
      }
    }
    return { fields: definition.metadata, user: definition.userMetadata, value: metadata };
  }

  /** MeterDefinition.to_samples: appends the definition's samples, or notes why it gives none. */
  private collect(plan: Plan, view: MessageView, out: RawSample[], drops: Array<readonly [unknown, string]>, previous: SharedMetadata | null): SharedMetadata {
    const { definition } = plan;
    const shared = this.metadataOf(definition, view, previous);
    const metadata = shared.value;
    const sample: RawSample = {
      name: definition.name,
      type: definition.type,
      unit: definition.unit,
      volume: NONE,
      timestamp: NONE,
      user_id: this.contextFallback ? firstOf(view.ctxt, 'user_id', 'user') : NONE,
      project_id: this.contextFallback ? firstOf(view.ctxt, 'project_id', 'tenant_id') : NONE,
      resource_id: NONE,
      metadata,
    };
    const { lookup } = definition;
    if (!lookup) {
      for (const [attribute, field] of plan.fields) {
        const value = field.first(view);
        if (value !== NONE) sample[attribute] = value;
      }
      out.push(sample);
      return shared;
    }
    // Every jsonpath gives a list; a single default value is repeated for each sample.
    const lists = new Map<SampleAttribute | 'metadata', readonly unknown[]>();
    for (const attribute of SAMPLE_ATTRIBUTES) {
      const field = definition.attributes[attribute];
      const values = field ? field.all(view) : [];
      lists.set(attribute, field && (attribute === 'name' || lookup.includes(attribute) || values.length > 0) ? values : [sample[attribute]]);
    }
    lists.set('metadata', [metadata]);
    const count = (lists.get('name') as unknown[]).length;
    if (count === 0) return shared;
    for (const [attribute, values] of lists) {
      if (values.length === count || (values.length === 1 && !lookup.includes(attribute))) continue;
      drops.push([definition.name, `only ${values.length} of the ${count} values of its lookup have "${attribute}"`]);
      return shared;
    }
    for (let i = 0; i < count; i++) {
      const one = { ...sample };
      for (const [attribute, values] of lists) (one as Record<string, unknown>)[attribute] = values.length === count ? values[i] : values[0];
      out.push(one);
    }
    return shared;
  }

  /** Ceilometer's add_reserved_user_metadata: `metering.x.y` becomes user_metadata `x_y` unless metadata has `x_y`. */
  private addUserMetadata(source: Record<string, unknown>, metadata: Record<string, unknown>): void {
    const { namespaces, keys, maxLengthChars } = this.reserved;
    let user: Record<string, unknown> | null = null;
    // Python's order: each namespace over every key, then each reserved key; a later write wins.
    for (const prefix of namespaces) {
      for (const key of Object.keys(source)) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length).replace(/\./g, '_');
        if (Object.hasOwn(metadata, name)) continue;
        user ??= {};
        user[name] = reservedValue(source[key], maxLengthChars);
      }
    }
    for (const reserved of keys) {
      if (!Object.hasOwn(source, reserved)) continue;
      const name = reserved.replace(/\./g, '_');
      if (Object.hasOwn(metadata, name)) continue;
      user ??= {};
      user[name] = reservedValue(source[reserved], maxLengthChars);
    }
    if (user) metadata.user_metadata = user;
  }

  /** Sample.from_notification's time: the definition's timestamp when truthy, else the notification's. */
  private time(sample: RawSample, view: MessageView, notification: Notification): string {
    const given = truthy(sample.timestamp) ? sample.timestamp : view.metadata.timestamp;
    if (given === this.lastTime) return this.lastTimeWritten;
    const instant = parseIsoTime(given);
    if (!instant) {
      throw new MalformedNotificationError(
        MAPPING_ERROR_CODES.badTimestamp,
        `notification ${notification.message_id} (${notification.event_type}) has time ${JSON.stringify(given)} for meter ${pyStr(sample.name)}; expected an ISO 8601 time such as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC unless a zone is given)`,
      );
    }
    this.lastTime = given;
    this.lastTimeWritten = formatIsoTime(instant);
    return this.lastTimeWritten;
  }

  /** The pipeline's volume check: a number, or why the sample is dropped; a container loses the notification. */
  private volume(sample: RawSample, notification: Notification): number | string {
    const value = sample.volume;
    if (value === null || value === undefined) return 'it has no volume (volume: None)';
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'number') return value;
    if (typeof value === 'string') {
      const parsed = pyFloat(value);
      if (parsed === undefined) return `its volume ${JSON.stringify(value)} is not a number`;
      if (!Number.isFinite(parsed)) return `its volume ${JSON.stringify(value)} is not finite`;
      return parsed;
    }
    throw new MalformedNotificationError(
      MAPPING_ERROR_CODES.badVolume,
      `meter ${pyStr(sample.name)}: volume of ${notification.event_type} ${notification.message_id} is ${JSON.stringify(value)}; expected a number (Ceilometer loses the whole notification here too)`,
    );
  }

  /** What Cumulus' Sample requires beyond Ceilometer: a name, a known type, a unit and a resource id. */
  private check(sample: RawSample): { name: string; type: SampleType; unit: string; resourceId: string } | string {
    const name = idString(sample.name);
    if (!name) return 'it has no name';
    const type = sample.type as SampleType;
    if (!SAMPLE_TYPES.includes(type)) return `its type ${JSON.stringify(sample.type)} is not one of ${SAMPLE_TYPES.join(', ')}`;
    const unit = idString(sample.unit);
    if (unit === null) return 'it has no unit';
    const resourceId = isDict(sample.resource_id) || Array.isArray(sample.resource_id) ? null : idString(sample.resource_id);
    if (!resourceId) return 'it has no resource_id';
    return { name, type, unit, resourceId };
  }
}
