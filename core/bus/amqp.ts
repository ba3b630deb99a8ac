import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { TransportError, errorMessage } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { Bus, BusConsumer, BusConsumerHandle, BusDelivery, BusMessage, BusSubscription } from './types.ts';

export interface AmqpBusConfig {
  url: string;
  /**
   * Whether exchanges are declared durable. oslo.messaging declares control exchanges
   * with `amqp_durable_queues` (default false); declaring them differently fails with
   * PRECONDITION_FAILED on a real OpenStack's broker, so this must match the cloud's.
   */
  durableExchanges: boolean;
  /** How long publish() waits for a (re)connection before it rejects. */
  publishTimeoutMs: number;
}

export const DEFAULT_AMQP_PUBLISH_TIMEOUT_MS = 30_000;
export const DEFAULT_AMQP_REDELIVERY_DELAY_MS = 500;

/** Hides the password of an AMQP URL before it reaches a log or an error. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

interface ActiveSubscription {
  subscription: BusSubscription;
  consumer: BusConsumer;
  channel: Channel | null;
  closed: boolean;
  pending: ConsumeMessage[];
  timer: NodeJS.Timeout | null;
  flushing: Promise<void>;
}

/**
 * RabbitMQ through amqplib, with amqplib's connection recovery: after a broker restart it
 * reconnects, re-creates the publisher's confirm channel and re-attaches every consumer.
 * Messages are published persistent with publisher confirms; consumers ack a batch only
 * after consume() resolved, so a crash or disconnect redelivers instead of losing.
 */
export class AmqpBus implements Bus {
  readonly kind = 'amqp' as const;
  private connection: RecoveringChannelModel | null = null;
  private publisher: ConfirmChannel | null = null;
  private publisherReady: Array<() => void> = [];
  private readonly subscriptions = new Set<ActiveSubscription>();
  private readonly declaredExchanges = new Set<string>();
  private stopping = false;

  constructor(
    private readonly config: AmqpBusConfig,
    private readonly logger: Logger = silentLogger(),
  ) {}

  async start(): Promise<void> {
    if (this.connection) return;
    this.stopping = false;
    try {
      this.connection = await amqp.connect(this.config.url, {
        recovery: { initialDelay: 200, maxDelay: 5000, initialMaxRetries: 3 },
      });
    } catch (err) {
      throw new TransportError(
        'CUMULUS_BUS_UNREACHABLE',
        `cannot connect to RabbitMQ at ${redactUrl(this.config.url)}: ${errorMessage(err)}; is it running (rabbitmq-server -detached) and is AMQP_URL right?`,
        err,
      );
    }
    this.connection.on('error', (err: Error) => this.logger.warn({ err: errorMessage(err) }, 'amqp connection error'));
    this.connection.on('disconnect', (err: Error) => {
      this.publisher = null;
      this.declaredExchanges.clear();
      for (const active of this.subscriptions) active.channel = null;
      if (!this.stopping) this.logger.warn({ err: errorMessage(err) }, 'amqp connection lost; reconnecting');
    });
    this.connection.on('connect', () => {
      if (this.stopping) return;
      this.logger.info('amqp connection re-established');
      void this.attachAll();
    });
    await this.attachAll();
  }

  private async attachAll(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (err: Error) => this.logger.warn({ err: errorMessage(err) }, 'amqp publisher channel error'));
      channel.on('close', () => {
        if (this.publisher === channel) this.publisher = null;
      });
      this.publisher = channel;
      for (const wake of this.publisherReady.splice(0)) wake();
      for (const active of this.subscriptions) if (!active.closed && !active.channel) await this.attach(active);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'amqp attach failed; waiting for the next reconnection');
    }
  }

  private async assertExchange(channel: Channel, exchange: string): Promise<void> {
    if (this.declaredExchanges.has(exchange)) return;
    await channel.assertExchange(exchange, 'topic', { durable: this.config.durableExchanges });
    this.declaredExchanges.add(exchange);
  }

  private async waitForPublisher(): Promise<ConfirmChannel> {
    const deadline = Date.now() + this.config.publishTimeoutMs;
    while (!this.publisher) {
      if (this.stopping || !this.connection) throw new TransportError('CUMULUS_BUS_CLOSED', 'the AMQP bus is stopped; start it before publishing');
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new TransportError('CUMULUS_BUS_UNREACHABLE', `no RabbitMQ connection for ${this.config.publishTimeoutMs} ms at ${redactUrl(this.config.url)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 250));
        this.publisherReady.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.publisher;
  }

  async publish(message: BusMessage): Promise<void> {
    const channel = await this.waitForPublisher();
    await this.assertExchange(channel, message.exchange);
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        message.exchange,
        message.routingKey,
        message.body,
        { persistent: true, contentType: 'application/json', contentEncoding: 'utf-8' },
        (err) => (err ? reject(new TransportError('CUMULUS_BUS_PUBLISH_NACKED', `RabbitMQ refused a message for ${message.exchange}/${message.routingKey}: ${errorMessage(err)}`, err)) : resolve()),
      );
    });
  }

  async subscribe(subscription: BusSubscription, consumer: BusConsumer): Promise<BusConsumerHandle> {
    if (!this.connection) throw new TransportError('CUMULUS_BUS_CLOSED', 'the AMQP bus is not started; call start() before subscribe()');
    const active: ActiveSubscription = { subscription, consumer, channel: null, closed: false, pending: [], timer: null, flushing: Promise.resolve() };
    this.subscriptions.add(active);
    await this.attach(active);
    return {
      close: async () => {
        active.closed = true;
        if (active.timer) clearTimeout(active.timer);
        await active.flushing;
        this.subscriptions.delete(active);
        const channel = active.channel;
        active.channel = null;
        // Unacknowledged deliveries go back to the queue when the channel closes.
        await channel?.close().catch(() => undefined);
      },
    };
  }

  private async attach(active: ActiveSubscription): Promise<void> {
    const connection = this.connection as unknown as ChannelModel;
    const { subscription } = active;
    const channel = await connection.createChannel();
    channel.on('error', (err: Error) => this.logger.warn({ err: errorMessage(err), queue: subscription.queue }, 'amqp consumer channel error'));
    await channel.assertQueue(subscription.queue, { durable: true });
    for (const binding of subscription.bindings) {
      await channel.assertExchange(binding.exchange, 'topic', { durable: this.config.durableExchanges });
      await channel.bindQueue(subscription.queue, binding.exchange, binding.routingKey);
    }
    // Room for one batch being consumed and the next one filling.
    await channel.prefetch(subscription.batchSize * 2);
    active.channel = channel;
    active.pending = [];
    await channel.consume(subscription.queue, (delivery) => {
      if (!delivery || active.closed || active.channel !== channel) return;
      active.pending.push(delivery);
      if (active.pending.length >= subscription.batchSize) this.scheduleFlush(active, 0);
      else if (!active.timer) this.scheduleFlush(active, subscription.batchWaitMs);
    });
  }

  private scheduleFlush(active: ActiveSubscription, delayMs: number): void {
    if (active.timer) clearTimeout(active.timer);
    active.timer = setTimeout(() => {
      active.timer = null;
      active.flushing = active.flushing.then(() => this.flush(active));
    }, delayMs);
  }

  private async flush(active: ActiveSubscription): Promise<void> {
    const channel = active.channel;
    if (!channel || active.pending.length === 0) return;
    const deliveries = active.pending.splice(0, active.subscription.batchSize);
    const batch: BusDelivery[] = deliveries.map((d) => ({
      exchange: d.fields.exchange,
      routingKey: d.fields.routingKey,
      body: d.content,
      redelivered: d.fields.redelivered,
    }));
    try {
      await active.consumer.consume(batch);
      // 1. consumed durably downstream; 2. only then acknowledge, up to the batch's last tag.
      const last = deliveries[deliveries.length - 1] as ConsumeMessage;
      if (active.channel === channel) channel.ack(last, true);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err), queue: active.subscription.queue }, 'bus consumer rejected a batch; requeueing');
      await new Promise((resolve) => setTimeout(resolve, DEFAULT_AMQP_REDELIVERY_DELAY_MS));
      const last = deliveries[deliveries.length - 1] as ConsumeMessage;
      // Every delivery up to the batch's last tag returns to the queue, marked redelivered.
      if (active.channel === channel) channel.nack(last, true, true);
    }
    if (active.pending.length >= active.subscription.batchSize) this.scheduleFlush(active, 0);
    else if (active.pending.length > 0 && !active.timer) this.scheduleFlush(active, active.subscription.batchWaitMs);
  }

  async stop(): Promise<void> {
    if (!this.connection) return;
    this.stopping = true;
    for (const active of [...this.subscriptions]) {
      active.closed = true;
      if (active.timer) clearTimeout(active.timer);
      await active.flushing;
    }
    this.subscriptions.clear();
    const connection = this.connection;
    this.connection = null;
    this.publisher = null;
    await connection.close().catch(() => undefined);
  }
}
