/** The notification listener's settings. Stable. */
export interface NotificationListenerConfig {
  /** Our own durable queue, so a real Ceilometer's queues on the same broker are left alone. */
  queue: string;
  /** Control exchanges to bind, each on `notifications.*`. */
  exchanges: readonly string[];
  batchSize: number;
  batchWaitMs: number;
}

export const DEFAULT_NOTIFICATION_QUEUE = 'cumulus.notifications';
/** `placement`: keystonemiddleware's audit filter in front of Placement publishes its audit.http.* there. */
export const DEFAULT_CONTROL_EXCHANGES = ['nova', 'glance', 'cinder', 'neutron', 'keystone', 'heat', 'swift', 'placement', 'openstack', 'cumulus'] as const;
export const DEFAULT_NOTIFICATION_BATCH_SIZE = 500;
export const DEFAULT_NOTIFICATION_BATCH_WAIT_MS = 50;

export const DEFAULT_NOTIFICATION_LISTENER_CONFIG: NotificationListenerConfig = {
  queue: DEFAULT_NOTIFICATION_QUEUE,
  exchanges: DEFAULT_CONTROL_EXCHANGES,
  batchSize: DEFAULT_NOTIFICATION_BATCH_SIZE,
  batchWaitMs: DEFAULT_NOTIFICATION_BATCH_WAIT_MS,
};
