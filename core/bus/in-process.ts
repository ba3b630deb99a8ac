import { TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { silentLogger } from '../logger.ts';
import { topicMatches, type Bus, type BusConsumer, type BusConsumerHandle, type BusDelivery, type BusMessage, type BusSubscription } from './types.ts';

/** Backoff after a rejected batch before it is delivered again. */
export const DEFAULT_REDELIVERY_DELAY_MS = 200;

interface Queue {
  name: string;
  bindings: BusSubscription['bindings'];
  messages: BusDelivery[];
  consumer: QueuePump | null;
}

class QueuePump {
  private running = true;
  private wake: (() => void) | null = null;
  private loop: Promise<void>;

  constructor(
    private readonly queue: Queue,
    private readonly subscription: BusSubscription,
    private readonly consumer: BusConsumer,
    private readonly logger: Logger,
  ) {
    this.loop = this.run();
  }

  /** Called on every publish: wakes the pump when it waits for a first message or for a full batch. */
  notify(): void {
    if (!this.running || this.queue.messages.length >= this.wakeAt) this.wake?.();
  }

  /** Queue length that ends the current wait early. */
  private wakeAt = 1;

  private async waitForMessages(ms: number, wakeAt: number): Promise<void> {
    this.wakeAt = wakeAt;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.queue.messages.length === 0) {
        await this.waitForMessages(1000, 1);
        continue;
      }
      // Like the AMQP bus: a partial batch waits batchWaitMs from now, cut short only by a full batch.
      if (this.queue.messages.length < this.subscription.batchSize) await this.waitForMessages(this.subscription.batchWaitMs, this.subscription.batchSize);
      if (!this.running) break;
      const batch = this.queue.messages.slice(0, this.subscription.batchSize);
      if (batch.length === 0) continue;
      try {
        await this.consumer.consume(batch);
        // 1. acknowledge: only now do the messages leave the queue.
        this.queue.messages.splice(0, batch.length);
      } catch (err) {
        // 2. rejected: the batch stays at the head, marked redelivered, and comes back after a pause.
        for (const message of batch) message.redelivered = true;
        this.logger.warn({ err, queue: this.queue.name }, 'bus consumer rejected a batch; redelivering');
        await new Promise((resolve) => setTimeout(resolve, DEFAULT_REDELIVERY_DELAY_MS));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}

/**
 * The embedded bus: topic exchanges and queues in memory, with the same ack semantics as
 * the AMQP bus (a rejected batch is redelivered), so the collectors behave alike on both.
 * Like RabbitMQ, a message no queue is bound for is dropped.
 */
export class InProcessBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly queues = new Map<string, Queue>();
  private stopped = false;

  constructor(private readonly logger: Logger = silentLogger()) {}

  async start(): Promise<void> {
    this.stopped = false;
  }

  async publish(message: BusMessage): Promise<void> {
    if (this.stopped) throw new TransportError('CUMULUS_BUS_CLOSED', 'the in-process bus is stopped; start it before publishing');
    for (const queue of this.queues.values()) {
      const bound = queue.bindings.some((b) => b.exchange === message.exchange && topicMatches(b.routingKey, message.routingKey));
      if (!bound) continue;
      queue.messages.push({ ...message, body: Buffer.from(message.body), redelivered: false });
      queue.consumer?.notify();
    }
  }

  async subscribe(subscription: BusSubscription, consumer: BusConsumer): Promise<BusConsumerHandle> {
    let queue = this.queues.get(subscription.queue);
    if (!queue) {
      queue = { name: subscription.queue, bindings: subscription.bindings, messages: [], consumer: null };
      this.queues.set(subscription.queue, queue);
    }
    if (queue.consumer) throw new TransportError('CUMULUS_BUS_QUEUE_BUSY', `queue ${subscription.queue} already has a consumer; close it first`);
    const pump = new QueuePump(queue, subscription, consumer, this.logger);
    queue.consumer = pump;
    const owner = queue;
    return {
      close: async () => {
        if (owner.consumer !== pump) return;
        owner.consumer = null;
        await pump.stop();
      },
    };
  }

  /** Messages waiting in a queue (for tests and health). */
  depth(queue: string): number {
    return this.queues.get(queue)?.messages.length ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.queues.values()].map(async (q) => {
      const pump = q.consumer;
      q.consumer = null;
      await pump?.stop();
    }));
  }
}
