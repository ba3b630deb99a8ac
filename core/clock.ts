/**
 * Time comes from an injected clock so the simulator can warp it and tests can pin it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  now(): Date;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => new Date(),
};

/** A clock that only moves when told to: for tests and the simulator's time warp. */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(start: Date | number) {
    this.currentMs = typeof start === 'number' ? start : start.getTime();
  }

  nowMs(): number {
    return this.currentMs;
  }

  now(): Date {
    return new Date(this.currentMs);
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`a clock only moves forward; got ${ms} ms`);
    this.currentMs += ms;
  }

  set(to: Date | number): void {
    this.currentMs = typeof to === 'number' ? to : to.getTime();
  }
}

/**
 * A clock that can be moved ahead of real time and then runs on from there at real speed:
 * the simulator's time warp builds history in minutes, and `up --simulate` carries on live.
 */
export class WarpClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly realNowMs: () => number = Date.now) {}

  nowMs(): number {
    return this.realNowMs() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Sets the clock to `to`; it keeps running from there. */
  set(to: Date | number): void {
    this.offsetMs = (typeof to === 'number' ? to : to.getTime()) - this.realNowMs();
  }

  /** Back to real time. */
  reset(): void {
    this.offsetMs = 0;
  }
}
