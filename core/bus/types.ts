import type { Lifecycle } from '../lifecycle.ts';

/**
 * The message bus between the control plane and the collectors: AMQP topic exchanges,
 * as oslo.messaging uses them (exchange = service's control exchange, routing key =
 * `notifications.<priority>`). In-process in embedded mode, RabbitMQ otherwise.
 */
export interface BusMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
}

export interface BusDelivery extends BusMessage {
  /** True when the broker delivered this message before and it was not acknowledged. */
  redelivered: boolean;
}

/** A queue binding; `routingKey` is an AMQP topic pattern (`*` one word, `#` any words). */
export interface BusBinding {
  exchange: string;
  routingKey: string;
}

export interface BusSubscription {
  /** A durable queue: it keeps messages while no consumer runs. */
  queue: string;
  bindings: readonly BusBinding[];
  /** Deliveries handed to consume() at most at once. */
  batchSize: number;
  /** How long a partial batch waits for more deliveries. */
  batchWaitMs: number;
}

/**
 * The one data verb. Resolving acknowledges the whole batch; rejecting returns it to
 * the queue (redelivered later), so a consumer acks only what it has durably handed on.
 */
export interface BusConsumer {
  consume(batch: readonly BusDelivery[]): Promise<void>;
}

export interface BusConsumerHandle {
  close(): Promise<void>;
}

export interface Bus extends Lifecycle {
  readonly kind: 'memory' | 'amqp';
  /** Resolves once the broker has taken the message (publisher confirm). */
  publish(message: BusMessage): Promise<void>;
  subscribe(subscription: BusSubscription, consumer: BusConsumer): Promise<BusConsumerHandle>;
}

/** AMQP topic matching: words split on '.', `*` matches one word, `#` zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern.split('.');
  const k = routingKey.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') {
      for (let next = j; next <= k.length; next++) if (match(i + 1, next)) return true;
      return false;
    }
    if (j === k.length) return false;
    return (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
