/**
 * The process's counters, bumped where things happen (a frame in, a frame out, a group send) and
 * read when `/metrics` is scraped. One set per process, as Prometheus client libraries keep one
 * default registry: cheap to bump, nothing to pass around.
 */

/** Handler duration buckets in seconds: a handler is usually well under a millisecond. */
const HANDLER_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/** A cumulative histogram, Prometheus-style. */
export class Histogram {
  readonly buckets: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= this.buckets[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export const counters = {
  connectionsOpened: 0,
  connectionsClosed: 0,
  framesIn: 0,
  framesOut: 0,
  groupSends: 0,
  sends: 0,
  /** Layer calls that failed (backend away, full channel, bad message). */
  layerErrors: 0,
  /** Consumer handlers: `receive` and every message handler. */
  handlerSeconds: new Histogram(HANDLER_BUCKETS),
};

/** Records a handler that started at `started` (`performance.now()`) and has just ended. */
export function handlerEnded(started: number): void {
  counters.handlerSeconds.observe((performance.now() - started) / 1000);
}
