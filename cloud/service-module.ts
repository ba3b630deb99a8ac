import type { FastifyInstance } from 'fastify';
import type { Clock, Logger, StateDatabase } from '../core/index.ts';
import type { KeystoneService } from './keystone/service.ts';
import type { Notifier } from './notifier.ts';

/** What every control-plane service gets from the cloud's composition (cloud/index.ts). */
export interface CloudServiceDeps {
  /** The control plane's SQLite database; each service migrates its own tables (component `cloud.<name>`). */
  db: StateDatabase;
  /** Emits oslo.messaging v2 notifications on the service's control exchange. */
  notifier: Notifier;
  /** Token validation (use contextFromRequest from request-context.ts) and identity lookups. */
  keystone: KeystoneService;
  clock: Clock;
  logger: Logger;
  /** Base URL of the API server, e.g. http://127.0.0.1:8000 (for links in responses). */
  publicUrl: string;
  region: string;
}

/** One OpenStack service of the control plane: its API routes and its lifecycle. */
export interface CloudServiceModule {
  readonly name: string;
  /** Mounts the service's routes under its catalog prefix. */
  register(app: FastifyInstance): void;
  start?(): Promise<void>;
  /** Lets work under way finish (emitting what it emits); idempotent. */
  stop?(): Promise<void>;
}
