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
  /**
   * How long stop() and a handle's close() wait for a consume() in flight to settle (and
   * its batch to be acked) before they give up on it: its deliveries are then not acked
   * and return to the queue. Default DEFAULT_AMQP_STOP_GRACE_MS.
   */
  stopGraceMs?: number;
}

export const DEFAULT_AMQP_PUBLISH_TIMEOUT_MS = 30_000;
export const DEFAULT_AMQP_REDELIVERY_DELAY_MS = 500;
export const DEFAULT_AMQP_STOP_GRACE_MS = 5_000;

/** Resolves when `promise` settles or after `ms`, whichever comes first (never rejects). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

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
  /** Connection losses so far: a publish that saw one while in flight is sent again. */
  private disconnects = 0;
  private openingPublisher: Promise<void> | null = null;

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
      this.disconnects++;
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
    if (!this.connection) return;
    // FIX (message loss after a broker restart): consumers are re-attached BEFORE the
    // publisher is re-created. A non-durable exchange (durableExchanges: false, the oslo
    // default) and its bindings are gone after a restart; had publishes waiting for the
    // reconnection gone out first, they would re-declare the exchange, be confirmed by
    // the broker, and be dropped as unroutable before the queue was bound again.
    for (const active of this.subscriptions) {
      if (active.closed || active.channel) continue;
      try {
        await this.attach(active);
      } catch (err) {
        this.logger.warn({ err: errorMessage(err), queue: active.subscription.queue }, 'amqp consumer attach failed; waiting for the next reconnection');
      }
    }
    await this.openPublisher();
  }

  /** Opens the publisher's confirm channel (once at a time) and wakes waiting publishes. */
  private openPublisher(): Promise<void> {
    this.openingPublisher ??= (async () => {
      const connection = this.connection;
      if (!connection || this.publisher) return;
      try {
        const channel = await connection.createConfirmChannel();
        const disconnectsAtOpen = this.disconnects;
        channel.on('error', (err: Error) => this.logger.warn({ err: errorMessage(err) }, 'amqp publisher channel error'));
        channel.on('close', () => {
          if (this.publisher !== channel) return;
          this.publisher = null;
          // FIX (publisher never re-opened): a channel-level error (e.g. PRECONDITION_FAILED
          // on an exchange declared with other flags) closes this channel only; the
          // connection stays up, so no 'connect' event would ever re-create it and every
          // later publish would time out as "no RabbitMQ connection". Re-open it here. The
          // check runs on the next turn: on a connection loss amqplib closes the channels
          // just before it reports the disconnect, and the 'connect' handler re-opens then.
          setImmediate(() => {
            if (!this.stopping && this.connection === connection && this.disconnects === disconnectsAtOpen) void this.openPublisher();
          });
        });
        this.publisher = channel;
        for (const wake of this.publisherReady.splice(0)) wake();
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'amqp publisher channel failed; waiting for the next reconnection');
      }
    })().finally(() => {
      this.openingPublisher = null;
    });
    return this.openingPublisher;
  }

  private async assertExchange(channel: Channel, exchange: string): Promise<void> {
    if (this.declaredExchanges.has(exchange)) return;
    await channel.assertExchange(exchange, 'topic', { durable: this.config.durableExchanges });
    this.declaredExchanges.add(exchange);
  }

  private async waitForPublisher(deadline: number): Promise<ConfirmChannel> {
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
    const deadline = Date.now() + this.config.publishTimeoutMs;
    for (;;) {
      const channel = await this.waitForPublisher(deadline);
      const disconnectsBefore = this.disconnects;
      try {
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
        return;
      } catch (err) {
        // FIX (publish failing during a reconnection): when the connection drops while the
        // message is unconfirmed, amqplib fails it with "channel closed"; it was not refused,
        // so it goes out again once reconnected (at least once, like every delivery),
        // within the same publishTimeoutMs. amqplib reports the disconnect synchronously
        // with the channel's close, so the counter has moved by the time we get here.
        if (this.disconnects !== disconnectsBefore && !this.stopping && this.connection && Date.now() < deadline) continue;
        throw err;
      }
    }
  }

  async subscribe(subscription: BusSubscription, consumer: BusConsumer): Promise<BusConsumerHandle> {
    if (!this.connection) throw new TransportError('CUMULUS_BUS_CLOSED', 'the AMQP bus is not started; call start() before subscribe()');
    const active: ActiveSubscription = { subscription, consumer, channel: null, closed: false, pending: [], timer: null, flushing: Promise.resolve() };
    this.subscriptions.add(active);
    try {
      await this.attach(active);
    } catch (err) {
      // FIX: a subscribe() that rejected must not come alive at the next reconnection.
      active.closed = true;
      this.subscriptions.delete(active);
      throw err;
    }
    return {
      close: async () => {
        active.closed = true;
        if (active.timer) clearTimeout(active.timer);
        // FIX (close()/stop() hanging on a stuck consumer): wait a bounded time for the batch
        // in flight; past that, give up on it (see stop()).
        await settledWithin(active.flushing, this.stopGraceMs);
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
    try {
      await channel.consume(subscription.queue, (delivery) => {
        if (!delivery || active.closed || active.channel !== channel) return;
        active.pending.push(delivery);
        if (active.pending.length >= subscription.batchSize) this.scheduleFlush(active, 0);
        else if (!active.timer) this.scheduleFlush(active, subscription.batchWaitMs);
      });
    } catch (err) {
      // FIX: left set, a dead channel would make attachAll() skip this subscription at
      // every later reconnection.
      if (active.channel === channel) active.channel = null;
      throw err;
    }
  }

  private scheduleFlush(active: ActiveSubscription, delayMs: number): void {
    if (active.timer) clearTimeout(active.timer);
    if (active.closed) return;
    active.timer = setTimeout(() => {
      active.timer = null;
      // FIX: a flush that throws must not break the chain (every later flush would be
      // skipped, the subscription stalled) nor surface as an unhandled rejection.
      active.flushing = active.flushing.then(() => this.flush(active)).catch((err: unknown) => {
        this.logger.error({ err: errorMessage(err), queue: active.subscription.queue }, 'amqp batch flush failed');
      });
    }, delayMs);
  }

  /**
   * Acks (or requeues) up to `last` when `channel` is still the subscription's channel:
   * delivery tags belong to a channel, and after a reconnection, a close() or a stop()
   * the old channel's unacked deliveries are redelivered anyway. A channel closed under
   * us (amqplib throws IllegalOperationError) is the same case.
   */
  private settle(active: ActiveSubscription, channel: Channel, last: ConsumeMessage, ack: boolean): void {
    if (active.channel !== channel) return;
    try {
      if (ack) channel.ack(last, true);
      else channel.nack(last, true, true);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err), queue: active.subscription.queue }, 'amqp channel closed before the batch was settled; it will be redelivered');
    }
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
    const last = deliveries[deliveries.length - 1] as ConsumeMessage;
    let accepted: boolean;
    try {
      await active.consumer.consume(batch);
      accepted = true;
    } catch (err) {
      accepted = false;
      this.logger.warn({ err: errorMessage(err), queue: active.subscription.queue }, 'bus consumer rejected a batch; requeueing');
      await new Promise((resolve) => setTimeout(resolve, DEFAULT_AMQP_REDELIVERY_DELAY_MS));
    }
    // Accepted: consumed durably downstream, only now acknowledged up to the batch's last tag.
    // Rejected: every delivery up to the batch's last tag returns to the queue, marked redelivered.
    this.settle(active, channel, last, accepted);
    if (active.pending.length >= active.subscription.batchSize) this.scheduleFlush(active, 0);
    else if (active.pending.length > 0 && !active.timer) this.scheduleFlush(active, active.subscription.batchWaitMs);
  }

  private get stopGraceMs(): number {
    return this.config.stopGraceMs ?? DEFAULT_AMQP_STOP_GRACE_MS;
  }

  async stop(): Promise<void> {
    if (!this.connection) return;
    this.stopping = true;
    const actives = [...this.subscriptions];
    for (const active of actives) {
      active.closed = true;
      if (active.timer) clearTimeout(active.timer);
    }
    // FIX (stop() hanging forever on a consume() that never settles, e.g. a wedged store):
    // batches in flight get stopGraceMs to finish and be acked. A consume() still running
    // then is abandoned: its channel is forgotten, so a late resolution acks nothing, and
    // closing the connection returns its deliveries to the queue (redelivered: true).
    await settledWithin(Promise.all(actives.map((active) => active.flushing)), this.stopGraceMs);
    // FIX (the last batch's ack lost at every stop): amqplib buffers each channel's frames
    // separately and interleaves them, so a Connection.Close sent right after an ack can
    // reach the broker first, which then drops the ack: the batch was redelivered after
    // every graceful stop. Closing each consumer channel first puts its Channel.Close behind
    // its acks on the same channel and waits for CloseOk (unacked deliveries are requeued).
    for (const active of actives) {
      const channel = active.channel;
      active.channel = null;
      await channel?.close().catch(() => undefined);
    }
    this.subscriptions.clear();
    const connection = this.connection;
    this.connection = null;
    this.publisher = null;
    await connection.close().catch(() => undefined);
  }
}
