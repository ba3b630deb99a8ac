import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AMQP_URL, amqpHostPort, serviceGate } from '../../test/support/services.ts';
import { TransportError } from '../errors.ts';
import { AmqpBus, redactUrl, type AmqpBusConfig } from './amqp.ts';
import type { BusConsumer, BusDelivery, BusSubscription } from './types.ts';

const gate = await serviceGate('RabbitMQ', amqpHostPort());
const run = randomUUID().slice(0, 8);
const run$ = promisify(execFile);

/** Every queue and exchange a test declares, deleted in afterAll. */
const queues = new Set<string>();
const exchanges = new Set<string>();
const buses = new Set<AmqpBus>();

function names(test: string) {
  const queue = `cumulus.test.${run}.${test}`;
  const exchange = `cumulus-test-${run}-${test}`;
  queues.add(queue);
  exchanges.add(exchange);
  return { queue, exchange };
}

function newBus(config: Partial<AmqpBusConfig> = {}, logger = pino({ level: 'silent' })): AmqpBus {
  const bus = new AmqpBus({ url: AMQP_URL, durableExchanges: false, publishTimeoutMs: 20_000, ...config }, logger);
  buses.add(bus);
  return bus;
}

function subscription(queue: string, exchange: string, routingKey: string, batchSize = 10, batchWaitMs = 50): BusSubscription {
  return { queue, bindings: [{ exchange, routingKey }], batchSize, batchWaitMs };
}

/** A consumer that records every batch it is handed (and accepts it unless told otherwise). */
function recorder(decide: (batch: readonly BusDelivery[], call: number) => Promise<void> = async () => undefined) {
  const batches: BusDelivery[][] = [];
  const accepted: BusDelivery[] = [];
  const consumer: BusConsumer = {
    async consume(batch) {
      const copy = batch.map((d) => ({ ...d }));
      batches.push(copy);
      await decide(copy, batches.length);
      accepted.push(...copy);
    },
  };
  return { batches, accepted, consumer, bodies: () => accepted.map((d) => d.body.toString()) };
}

const body = (text: string) => Buffer.from(text);

/** Rejects when `promise` has not settled within `ms`, so a hang fails the test with a reason. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Declares a queue bound to a topic exchange and fills it, outside the bus under test. */
async function prefill(queue: string, exchange: string, routingKey: string, bodies: readonly string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, routingKey);
    for (const text of bodies) channel.publish(exchange, routingKey, body(text), { persistent: true });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run$('rabbitmqctl', args, { timeout: 20_000 });
}

/** Waits until the broker answers AMQP again (used to leave it running after a failed restart test). */
async function brokerUp(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const connection = await amqp.connect(AMQP_URL);
      await connection.close();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return false;
}

describe.runIf(gate.run)('AmqpBus against RabbitMQ', () => {
  afterEach(async () => {
    for (const bus of buses) await within(bus.stop(), 15_000, 'bus.stop()').catch(() => undefined);
    buses.clear();
  });

  afterAll(async () => {
    if (!gate.available) return;
    // A failed restart test must not leave the broker's app stopped for the next suites.
    if (!(await brokerUp(1_000))) {
      await rabbitmqctl('start_app').catch(() => undefined);
      await brokerUp(20_000);
    }
    const connection = await amqp.connect(AMQP_URL);
    try {
      for (const queue of queues) {
        const channel = await connection.createChannel();
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
      for (const exchange of exchanges) {
        const channel = await connection.createChannel();
        await channel.deleteExchange(exchange).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    } finally {
      await connection.close();
    }
  });

  it('has RabbitMQ to run against', () => {
    expect(gate.available, `RabbitMQ must be reachable at ${amqpHostPort()} (rabbitmq-server -detached)`).toBe(true);
  });

  it('delivers bodies with their exchange and routing key, through a topic binding', async () => {
    const { queue, exchange } = names('topic');
    const bus = newBus();
    await bus.start();
    const rec = recorder();
    await bus.subscribe(subscription(queue, exchange, 'notifications.*'), rec.consumer);

    await bus.publish({ exchange, routingKey: 'notifications.info', body: body('info-1') });
    await bus.publish({ exchange, routingKey: 'notifications.error', body: body('error-1') });
    await bus.publish({ exchange, routingKey: 'other.info', body: body('other-1') });
    // One queue, one publisher channel: had other.info been routed, it would come before this.
    await bus.publish({ exchange, routingKey: 'notifications.info', body: body('sentinel') });

    await vi.waitFor(() => expect(rec.bodies()).toContain('sentinel'), { timeout: 5_000, interval: 20 });
    expect(rec.accepted.map((d) => ({ exchange: d.exchange, routingKey: d.routingKey, body: d.body.toString(), redelivered: d.redelivered }))).toEqual([
      { exchange, routingKey: 'notifications.info', body: 'info-1', redelivered: false },
      { exchange, routingKey: 'notifications.error', body: 'error-1', redelivered: false },
      { exchange, routingKey: 'notifications.info', body: 'sentinel', redelivered: false },
    ]);
    expect(Buffer.isBuffer(rec.accepted[0]?.body)).toBe(true);
  });

  it('hands over batches of at most batchSize, each message exactly once', async () => {
    const { queue, exchange } = names('batches');
    const sent = Array.from({ length: 25 }, (_, i) => `m-${i}`);
    await prefill(queue, exchange, 'notifications.info', sent);

    const bus = newBus();
    await bus.start();
    const rec = recorder();
    await bus.subscribe(subscription(queue, exchange, 'notifications.*', 10, 100), rec.consumer);

    await vi.waitFor(() => expect(rec.accepted.length).toBeGreaterThanOrEqual(25), { timeout: 5_000, interval: 20 });
    // Give a duplicate (an ack that did not reach the broker) the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sizes = rec.batches.map((b) => b.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes).toContain(10); // 25 queued messages are really grouped, not handed one by one
    expect(rec.bodies().sort()).toEqual([...sent].sort());
    expect(rec.accepted.every((d) => !d.redelivered)).toBe(true);
  });

  it('requeues a rejected batch: it comes again marked redelivered, nothing lost', async () => {
    const { queue, exchange } = names('reject');
    const sent = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4'];
    await prefill(queue, exchange, 'notifications.info', sent);

    const bus = newBus();
    await bus.start();
    let rejected: string[] = [];
    const rec = recorder(async (batch, call) => {
      if (call === 1) {
        rejected = batch.map((d) => d.body.toString());
        throw new Error('downstream is full');
      }
    });
    await bus.subscribe(subscription(queue, exchange, 'notifications.*', 10, 100), rec.consumer);

    await vi.waitFor(() => expect(rec.bodies().sort()).toEqual(sent), { timeout: 5_000, interval: 20 });
    expect(rejected.length).toBeGreaterThan(0);
    expect(rec.batches[0]?.every((d) => !d.redelivered)).toBe(true);
    for (const text of rejected) {
      const again = rec.accepted.find((d) => d.body.toString() === text);
      expect(again?.redelivered, `${text} comes again marked redelivered`).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rec.bodies()).toHaveLength(sent.length); // accepted once each
  });

  it('keeps unacknowledged messages across a consumer crash: a new bus gets them again', async () => {
    const { queue, exchange } = names('crash');
    const first = newBus({ stopGraceMs: 1_000 });
    await first.start();
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const crashed = recorder(() => stuck); // consume() never resolves while the bus runs
    await first.subscribe(subscription(queue, exchange, 'notifications.*', 10, 50), crashed.consumer);
    const sent = ['c-0', 'c-1', 'c-2'];
    for (const text of sent) await first.publish({ exchange, routingKey: 'notifications.info', body: body(text) });
    await vi.waitFor(() => expect(crashed.batches.flat()).toHaveLength(3), { timeout: 5_000, interval: 20 });

    // Stopping mid-batch must not wait forever on the stuck consume() (stopGraceMs), nor ack.
    const stopping = Date.now();
    await within(first.stop(), 10_000, 'stop() with a consume() in flight');
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(900);
    release(); // the stuck consume resolves after stop: too late, nothing may be acked now

    const second = newBus();
    await second.start();
    const rec = recorder();
    await second.subscribe(subscription(queue, exchange, 'notifications.*', 10, 50), rec.consumer);
    await vi.waitFor(() => expect(rec.bodies().sort()).toEqual(sent), { timeout: 5_000, interval: 20 });
    expect(rec.accepted.every((d) => d.redelivered)).toBe(true);
    expect(crashed.accepted).toHaveLength(3); // the late resolution ran, but acked nothing
  });

  it('stop() lets a batch in flight finish within the grace, and acks it', async () => {
    const { queue, exchange } = names('graceful');
    const first = newBus({ stopGraceMs: 10_000 });
    await first.start();
    const slow = recorder(() => new Promise((resolve) => setTimeout(resolve, 700)));
    await first.subscribe(subscription(queue, exchange, 'notifications.*', 10, 50), slow.consumer);
    for (const text of ['g-0', 'g-1']) await first.publish({ exchange, routingKey: 'notifications.info', body: body(text) });
    await vi.waitFor(() => expect(slow.batches.flat()).toHaveLength(2), { timeout: 5_000, interval: 20 });
    const started = Date.now();
    await within(first.stop(), 10_000, 'stop() with a slow consume() in flight');
    expect(slow.bodies()).toEqual(['g-0', 'g-1']); // it waited for the batch...
    expect(Date.now() - started).toBeLessThan(5_000); // ...not for the whole grace

    const second = newBus();
    await second.start();
    const rec = recorder();
    await second.subscribe(subscription(queue, exchange, 'notifications.*', 10, 50), rec.consumer);
    await second.publish({ exchange, routingKey: 'notifications.info', body: body('g-2') });
    await vi.waitFor(() => expect(rec.bodies()).toContain('g-2'), { timeout: 5_000, interval: 20 });
    expect(rec.bodies()).toEqual(['g-2']); // g-0 and g-1 were acked before the connection closed
  });

  it('survives a broker restart: reconnects, re-attaches the consumer, loses nothing', async () => {
    const { queue, exchange } = names('restart');
    const events: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void events.push(JSON.parse(line).msg as string) });
    const bus = newBus({ publishTimeoutMs: 20_000 }, logger);
    await bus.start();
    const rec = recorder();
    await bus.subscribe(subscription(queue, exchange, 'notifications.*', 10, 50), rec.consumer);
    const publish = (text: string) => bus.publish({ exchange, routingKey: 'notifications.info', body: body(text) });

    const before = Array.from({ length: 10 }, (_, i) => `before-${i}`);
    await Promise.all(before.map(publish));
    await vi.waitFor(() => expect(new Set(rec.bodies()).size).toBe(10), { timeout: 5_000, interval: 20 });

    // A steady flow of publishes across the restart: the ones in flight when the connection
    // drops (unconfirmed) must be sent again after the reconnection, not fail.
    const flow: string[] = [];
    const flowErrors: unknown[] = [];
    let flowing = true;
    const flowLoop = (async () => {
      for (let i = 0; flowing; i++) {
        const text = `flow-${i}`;
        flow.push(text);
        await publish(text).catch((err: unknown) => void flowErrors.push(err));
      }
    })();

    // Stopping the app closes every client connection (CONNECTION_FORCED) and the listener.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await rabbitmqctl('stop_app');
    let during: Promise<unknown[]> | null = null;
    const duringBodies = Array.from({ length: 5 }, (_, i) => `during-${i}`);
    try {
      await vi.waitFor(() => expect(events).toContain('amqp connection lost; reconnecting'), { timeout: 5_000, interval: 20 });
      // Publishing while disconnected waits for the reconnection instead of failing at once.
      const settled: string[] = [];
      during = Promise.all(duringBodies.map((text) => publish(text).then(() => void settled.push(text))));
      during.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(settled).toEqual([]);
    } finally {
      await rabbitmqctl('start_app');
    }
    await within(during as Promise<unknown[]>, 20_000, 'publishes made while the broker was down');
    expect(events).toContain('amqp connection re-established');
    flowing = false;
    await within(flowLoop, 20_000, 'the publish flow');
    expect(flowErrors).toEqual([]);

    const after = Array.from({ length: 10 }, (_, i) => `after-${i}`);
    await Promise.all(after.map(publish));
    const all = [...before, ...duringBodies, ...flow, ...after];
    await vi.waitFor(() => expect(new Set(rec.bodies()).size).toBe(all.length), { timeout: 10_000, interval: 50 });
    expect([...new Set(rec.bodies())].sort()).toEqual([...all].sort());
    expect(events.filter((e) => e === 'amqp connection lost; reconnecting')).toHaveLength(1);
  }, 30_000);

  it('keeps publishing after the broker refused an exchange declaration (channel error)', async () => {
    const { queue, exchange } = names('refused');
    const durable = names('durable').exchange;
    const admin = await amqp.connect(AMQP_URL);
    try {
      const channel = await admin.createChannel();
      await channel.assertExchange(durable, 'topic', { durable: true });
    } finally {
      await admin.close();
    }
    const bus = newBus({ publishTimeoutMs: 3_000 });
    await bus.start();
    const rec = recorder();
    await bus.subscribe(subscription(queue, exchange, 'notifications.*'), rec.consumer);

    // durableExchanges: false against a durable exchange: PRECONDITION_FAILED closes the channel.
    await expect(bus.publish({ exchange: durable, routingKey: 'notifications.info', body: body('x') })).rejects.toThrow(/PRECONDITION/);
    // The connection is still up: the next publish gets a new channel, not a 3 s "no connection".
    const started = Date.now();
    await bus.publish({ exchange, routingKey: 'notifications.info', body: body('after-refusal') });
    expect(Date.now() - started).toBeLessThan(2_000);
    await vi.waitFor(() => expect(rec.bodies()).toEqual(['after-refusal']), { timeout: 5_000, interval: 20 });
  });

  it('hides the password: redactUrl and an unreachable broker error', async () => {
    expect(redactUrl('amqp://cumulus:s3cr3t-pw@rabbit.example:5672/openstack')).toBe('amqp://cumulus:***@rabbit.example:5672/openstack');
    expect(redactUrl('amqp://guest@127.0.0.1:5672')).not.toContain('***');
    expect(redactUrl('not a url')).toBe('<unparseable url>');

    // A port nothing listens on: bind an ephemeral port, then free it.
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const bus = newBus({ url: `amqp://cumulus:s3cr3t-pw@127.0.0.1:${port}` });
    const started = Date.now();
    const err = await bus.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('CUMULUS_BUS_UNREACHABLE');
    expect((err as TransportError).message).toContain(`127.0.0.1:${port}`);
    expect((err as TransportError).message).not.toContain('s3cr3t-pw');
    expect(String((err as TransportError).cause)).not.toContain('s3cr3t-pw');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
