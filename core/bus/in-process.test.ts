import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { InProcessBus } from './in-process.ts';
import { topicMatches, type BusConsumerHandle, type BusDelivery, type BusSubscription } from './types.ts';

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const body = (text: string) => Buffer.from(text);
const texts = (batch: readonly BusDelivery[]) => batch.map((d) => d.body.toString());

function subscription(queue: string, bindings: BusSubscription['bindings'], batchSize = 10, batchWaitMs = 1): BusSubscription {
  return { queue, bindings, batchSize, batchWaitMs };
}

/** A consumer that records every batch it is handed. */
function recorder() {
  const batches: BusDelivery[][] = [];
  return {
    batches,
    all: () => batches.flat().map((d) => d.body.toString()),
    consumer: {
      async consume(batch: readonly BusDelivery[]) {
        batches.push(batch.map((d) => ({ ...d })));
      },
    },
  };
}

describe('topicMatches', () => {
  it.each([
    ['notifications.info', 'notifications.info', true],
    ['notifications.info', 'notifications.error', false],
    ['notifications.*', 'notifications.info', true],
    ['notifications.*', 'notifications', false],
    ['notifications.*', 'notifications.info.extra', false],
    ['*.info', 'notifications.info', true],
    ['#', 'anything.at.all', true],
    ['#', '', true],
    ['notifications.#', 'notifications', true],
    ['notifications.#', 'notifications.info', true],
    ['notifications.#', 'notifications.info.more', true],
    ['notifications.#', 'other.info', false],
    ['#.info', 'a.b.info', true],
    ['#.info', 'info', true],
    ['#.info', 'a.b.error', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['a.*.z', 'a.z', false],
  ])('%s vs %s -> %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('InProcessBus', () => {
  let bus: InProcessBus;
  const handles: BusConsumerHandle[] = [];

  const start = async () => {
    bus = new InProcessBus(silentLogger());
    await bus.start();
    return bus;
  };

  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await bus?.stop();
  });

  it('delivers a message only to the queues bound to its exchange and routing key', async () => {
    await start();
    const info = recorder();
    const all = recorder();
    const glance = recorder();
    handles.push(await bus.subscribe(subscription('q.info', [{ exchange: 'nova', routingKey: 'notifications.info' }]), info.consumer));
    handles.push(await bus.subscribe(subscription('q.all', [{ exchange: 'nova', routingKey: 'notifications.*' }]), all.consumer));
    handles.push(await bus.subscribe(subscription('q.glance', [{ exchange: 'glance', routingKey: '#' }]), glance.consumer));

    await bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body: body('a') });
    await bus.publish({ exchange: 'nova', routingKey: 'notifications.error', body: body('b') });
    await bus.publish({ exchange: 'cinder', routingKey: 'notifications.info', body: body('c') });

    await until(() => all.all().length === 2 && info.all().length === 1, 'deliveries');
    expect(info.all()).toEqual(['a']);
    expect(all.all()).toEqual(['a', 'b']);
    expect(glance.all()).toEqual([]);
    const first = all.batches.flat()[0] as BusDelivery;
    expect(first).toMatchObject({ exchange: 'nova', routingKey: 'notifications.info', redelivered: false });
  });

  it('copies the body: changing the published buffer afterwards does not change the delivery', async () => {
    await start();
    const rec = recorder();
    handles.push(await bus.subscribe(subscription('q', [{ exchange: 'x', routingKey: '#' }]), rec.consumer));
    const buffer = body('original');
    await bus.publish({ exchange: 'x', routingKey: 'k', body: buffer });
    buffer.write('XXXXXXXX');
    await until(() => rec.all().length === 1, 'delivery');
    expect(rec.all()).toEqual(['original']);
  });

  it('keeps messages for a queue that was subscribed before, while no consumer is attached', async () => {
    await start();
    const first = recorder();
    const handle = await bus.subscribe(subscription('durable', [{ exchange: 'nova', routingKey: 'notifications.*' }]), first.consumer);
    await handle.close();

    await bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body: body('1') });
    await bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body: body('2') });
    expect(bus.depth('durable')).toBe(2);

    const second = recorder();
    handles.push(await bus.subscribe(subscription('durable', [{ exchange: 'nova', routingKey: 'notifications.*' }]), second.consumer));
    await until(() => second.all().length === 2, 'queued messages');
    expect(second.all()).toEqual(['1', '2']);
    expect(first.all()).toEqual([]);
    await until(() => bus.depth('durable') === 0, 'acknowledgement');
  });

  it('drops a message no queue is bound for, as RabbitMQ does', async () => {
    await start();
    await bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body: body('lost') });
    expect(bus.depth('late')).toBe(0);

    const late = recorder();
    handles.push(await bus.subscribe(subscription('late', [{ exchange: 'nova', routingKey: 'notifications.*' }]), late.consumer));
    await bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body: body('kept') });
    await until(() => late.all().length === 1, 'delivery');
    // Give a wrongly retained message every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(late.all()).toEqual(['kept']);
  });

  it('refuses a second consumer on the same queue with CUMULUS_BUS_QUEUE_BUSY', async () => {
    await start();
    handles.push(await bus.subscribe(subscription('one', [{ exchange: 'x', routingKey: '#' }]), recorder().consumer));
    await expect(bus.subscribe(subscription('one', [{ exchange: 'x', routingKey: '#' }]), recorder().consumer)).rejects.toMatchObject({ code: 'CUMULUS_BUS_QUEUE_BUSY' });
  });

  it('hands messages in batches of at most batchSize, in order', async () => {
    await start();
    // Fill the queue while no consumer runs, so the batches are not shaped by timing.
    const handle = await bus.subscribe(subscription('batched', [{ exchange: 'x', routingKey: '#' }], 4), recorder().consumer);
    await handle.close();
    for (let i = 0; i < 10; i++) await bus.publish({ exchange: 'x', routingKey: 'k', body: body(String(i)) });

    const rec = recorder();
    handles.push(await bus.subscribe(subscription('batched', [{ exchange: 'x', routingKey: '#' }], 4), rec.consumer));
    await until(() => rec.all().length === 10, 'all messages');
    expect(rec.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(rec.all()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('hands on a partial batch once batchWaitMs has passed with no more deliveries', async () => {
    await start();
    const rec = recorder();
    handles.push(await bus.subscribe(subscription('partial', [{ exchange: 'x', routingKey: '#' }], 3, 60), rec.consumer));
    const published = Date.now();
    let consumedAt = 0;
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('alone') });
    await until(() => {
      if (rec.all().length === 1 && consumedAt === 0) consumedAt = Date.now();
      return consumedAt > 0;
    }, 'the partial batch');
    expect(rec.batches.map(texts)).toEqual([['alone']]);
    expect(consumedAt - published).toBeGreaterThanOrEqual(50);
  });

  it('lets a partial batch fill up to batchSize during batchWaitMs instead of handing it on at the next delivery', async () => {
    await start();
    const rec = recorder();
    handles.push(await bus.subscribe(subscription('filling', [{ exchange: 'x', routingKey: '#' }], 3, 300), rec.consumer));
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('a') });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('b') });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('c') });
    await until(() => rec.all().length === 3, 'the batch');
    // The AMQP bus gives one batch here: its batch timer starts at the first delivery and
    // only a full batch cuts it short. The embedded bus must batch the same way.
    expect(rec.batches.map(texts)).toEqual([['a', 'b', 'c']]);
  });

  it('redelivers a rejected batch marked redelivered, and loses or duplicates nothing once accepted', async () => {
    await start();
    const handle = await bus.subscribe(subscription('retry', [{ exchange: 'x', routingKey: '#' }], 3), recorder().consumer);
    await handle.close();
    for (let i = 0; i < 5; i++) await bus.publish({ exchange: 'x', routingKey: 'k', body: body(String(i)) });

    const attempts: Array<{ texts: string[]; redelivered: boolean[] }> = [];
    const accepted: string[] = [];
    let rejections = 2;
    handles.push(
      await bus.subscribe(subscription('retry', [{ exchange: 'x', routingKey: '#' }], 3), {
        async consume(batch) {
          attempts.push({ texts: texts(batch), redelivered: batch.map((d) => d.redelivered) });
          if (rejections > 0) {
            rejections--;
            throw new Error('downstream full');
          }
          accepted.push(...texts(batch));
        },
      }),
    );
    await until(() => accepted.length === 5, 'all messages accepted');
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(accepted).toEqual(['0', '1', '2', '3', '4']);
    expect(attempts[0]).toEqual({ texts: ['0', '1', '2'], redelivered: [false, false, false] });
    expect(attempts[1]).toEqual({ texts: ['0', '1', '2'], redelivered: [true, true, true] });
    expect(attempts[2]).toEqual({ texts: ['0', '1', '2'], redelivered: [true, true, true] });
    expect(attempts[3]).toEqual({ texts: ['3', '4'], redelivered: [false, false] });
    expect(attempts).toHaveLength(4);
    expect(bus.depth('retry')).toBe(0);
  });

  it('keeps a rejected batch in the queue: depth() counts it until it is accepted', async () => {
    await start();
    let accept = false;
    handles.push(
      await bus.subscribe(subscription('depth', [{ exchange: 'x', routingKey: '#' }], 10), {
        async consume() {
          if (!accept) throw new Error('not yet');
        },
      }),
    );
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('1') });
    await bus.publish({ exchange: 'x', routingKey: 'k', body: body('2') });
    expect(bus.depth('depth')).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bus.depth('depth')).toBe(2);
    accept = true;
    await until(() => bus.depth('depth') === 0, 'the queue to drain');
  });

  it('depth() is 0 for an unknown queue', async () => {
    await start();
    expect(bus.depth('nope')).toBe(0);
  });

  it('refuses publish after stop with CUMULUS_BUS_CLOSED, and accepts again after start', async () => {
    await start();
    await bus.stop();
    await expect(bus.publish({ exchange: 'x', routingKey: 'k', body: body('a') })).rejects.toMatchObject({ code: 'CUMULUS_BUS_CLOSED' });
    await bus.start();
    await expect(bus.publish({ exchange: 'x', routingKey: 'k', body: body('a') })).resolves.toBeUndefined();
  });

  it('stop() is idempotent and safe before start()', async () => {
    bus = new InProcessBus(silentLogger());
    await bus.stop();
    await bus.stop();
  });
});
