import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/index.ts';
import type { Notifier, RequestContext } from '../notifier.ts';
import { PUBLISHER_ID, REQUEST_EVENT_TYPE, RESELLER_PREFIX, SWIFT_EXCHANGE } from './config.ts';
import { pythonIsoformat } from './timestamps.ts';

/** One request as ceilometermiddleware sees it in swift-proxy's pipeline (after authtoken). */
export interface RequestRecord {
  method: string;
  /** swift-proxy's PATH_INFO, decoded: `/v1/AUTH_<project>/<container>/<object>`. */
  pathInfo: string;
  /** The token's user and project (X-User-Id, X-Project-Id). */
  userId: string | null;
  projectId: string | null;
  /** Body bytes the service read, and response body bytes it sent. */
  bytesReceived: number;
  bytesSent: number;
  /** `failure` when the service raised (a 5xx), as the middleware's exception path reports it. */
  outcome: 'success' | 'failure';
  timeMs: number;
}

/** urllib.parse.quote with its default safe='/': UTF-8 percent-encoding of all but `A-Za-z0-9_.-~/`. */
export function pythonQuote(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.\-~/]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** pycadf.helper.api.convert_req_action. */
const CADF_ACTIONS: Record<string, string> = { get: 'read', head: 'read', post: 'create', put: 'update', delete: 'delete', patch: 'update', options: 'read', trace: 'capture' };

const measurement = (result: number, name: string, unit: string) => ({ result, metric: { metricId: randomUUID(), unit, name } });

/**
 * The payload ceilometermiddleware's Swift.emit_event sends (pycadf Event.as_dict(), keys
 * in pycadf's order), or null where the middleware sends nothing (a path without version
 * and account). Ceilometer's meters.yaml turns each measurement into a delta sample named
 * after its metric, with resource_id = target.id and project_id = initiator.project_id:
 * storage.api.request (always, 1 request), storage.objects.incoming.bytes and
 * storage.objects.outgoing.bytes (when non-zero).
 *
 * One known difference: the middleware quotes a WSGI (latin-1) PATH_INFO, so it
 * double-encodes non-ASCII names; we quote the decoded UTF-8 path once.
 */
export function requestPayload(record: RequestRecord): Record<string, unknown> | null {
  const path = pythonQuote(record.pathInfo).replace('/', '');
  const parts = path.split('/');
  const version = parts[0] ?? '';
  const account = parts[1] ?? '';
  if (parts.length < 2 || !version || !account) return null;
  const remainder = parts.length > 2 ? parts.slice(2).join('/') : null;
  let container: string | null = null;
  let object: string | null = null;
  if (remainder) {
    const slash = remainder.indexOf('/');
    if (slash >= 0) {
      container = remainder.slice(0, slash);
      object = remainder.slice(slash + 1);
    } else {
      container = remainder;
    }
  }
  const projectOfAccount = account.startsWith(RESELLER_PREFIX) ? account.slice(RESELLER_PREFIX.length) : '';
  const measurements = [measurement(1, 'storage.api.request', 'request')];
  if (record.bytesReceived) measurements.push(measurement(record.bytesReceived, 'storage.objects.incoming.bytes', 'B'));
  if (record.bytesSent) measurements.push(measurement(record.bytesSent, 'storage.objects.outgoing.bytes', 'B'));
  return {
    typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    eventType: 'activity',
    id: randomUUID(),
    eventTime: pythonIsoformat(record.timeMs),
    action: CADF_ACTIONS[record.method.toLowerCase()] ?? 'unknown',
    outcome: record.outcome,
    observer: { id: 'target' },
    // pycadf generates an id when the request carried no X-User-Id.
    initiator: { id: record.userId ?? randomUUID(), typeURI: 'service/security/account/user', project_id: record.projectId },
    target: {
      id: projectOfAccount || path,
      typeURI: 'service/storage/object',
      metadata: { path, version, container, object },
      action: record.method.toLowerCase(),
    },
    measurements,
  };
}

/**
 * Emits `objectstore.http.request` on the `swift` exchange for each request, as
 * ceilometermiddleware does. A failure to publish is logged, never returned to the
 * client (the middleware's _log_and_ignore_error); stop() waits for those under way.
 */
export class RequestNotifier {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly notifier: Notifier,
    private readonly ignoreProjects: readonly string[],
    private readonly logger: Logger,
  ) {}

  emit(record: RequestRecord, context: RequestContext): Promise<void> {
    if (record.projectId !== null && this.ignoreProjects.includes(record.projectId)) return Promise.resolve();
    const payload = requestPayload(record);
    if (payload === null) return Promise.resolve();
    const sending = this.notifier
      .notify({ exchange: SWIFT_EXCHANGE, publisherId: PUBLISHER_ID, eventType: REQUEST_EVENT_TYPE, priority: 'INFO', payload, context })
      .then(
        () => undefined,
        (err: unknown) => this.logger.error({ err, path: record.pathInfo }, 'swift: could not emit objectstore.http.request'),
      );
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
    return sending;
  }

  /** Resolves once every notification under way is published (or has failed and been logged). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
