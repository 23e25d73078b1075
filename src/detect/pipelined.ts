/**
 * Runs `prepare` then `run` for each item, in order, so that the next items' inputs are prepared on this thread
 * (sharp crops, tensor packing) while the session worker runs the current one: each run is handed to the
 * worker as soon as its input is ready and queues there behind the previous. At most `ahead` prepared inputs
 * wait beyond the one running (their memory is held). Results in the items' order; the first failure rejects, and no
 * input is prepared after a failed preparation or run.
 */
export function pipelined<I, P, R>(
  items: readonly I[],
  prepare: (item: I, index: number) => Promise<P>,
  run: (prepared: P, item: I, index: number) => Promise<R>,
  ahead = 1,
): Promise<R[]> {
  const results: Promise<R>[] = [];
  let previous: Promise<unknown> = Promise.resolve();
  items.forEach((item, i) => {
    // One preparation at a time, and none more than `ahead` runs ahead of the last finished one.
    const gate = i > ahead ? results[i - ahead - 1]! : undefined;
    const prepared = Promise.all([previous, gate]).then(() => prepare(item, i));
    // A failed preparation stops the ones after it (their results reject with it, unhandled by none: Promise.all).
    previous = prepared;
    results.push(prepared.then((p) => run(p, item, i)));
  });
  return Promise.all(results);
}
