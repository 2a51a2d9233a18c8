// Bounded concurrency for fan-out to the upstream: the batch mutation and the challenge loader
// both start one upstream call per item, never more than a configured number at once.

/**
 * Starts `work` for every item, at most `limit` at a time, in the items' order, and returns one
 * promise per item (its own result or rejection: one item's failure does not touch the others).
 */
export function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R>[] {
  let running = 0;
  const waiting: (() => void)[] = [];
  // A finished call hands its slot straight to the next waiting item, so `running` never overshoots.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return items.map(async (item) => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work(item);
    } finally {
      release();
    }
  });
}
