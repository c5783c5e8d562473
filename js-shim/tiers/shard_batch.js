// Calls to one Durable Object shard, batched: at most one call in flight per shard and kind; what arrives
// meanwhile goes out together in the next call (up to `max` items). No timer before sending: a lone request
// goes at once, and batches form only while the shard is busy — under a burst of cold keys, when RPCs are
// what costs.
//
// workerd ties I/O to the request that started it, and ends a request's pending I/O and continuations when
// that request is done. So a call is always sent by a request whose own item is in it and which waits for
// it (it sends the batch, or it waits for the call in flight and then finds its item answered or sends the
// next batch itself); the call has its own deadline (`callTimeoutMs`, shorter than the callers' own), so it
// settles even if the shard never answers; and a call still marked in flight well past that deadline (its
// sender was cancelled before it could settle it) is given up, so one lost call never blocks the shard.
// Answers are plain data. Callers keep their own deadlines (tier_set.js withTimeout), which also keep a
// waiting request from looking hung to workerd.
import { withTimeout } from "../timeouts.js";

const GIVE_UP_MARGIN_MS = 250;

export class ShardBatcher {
  // send(items) → Promise<array of answers, one per item, in order>
  constructor(send, max, callTimeoutMs) {
    this.send = send;
    this.max = max;
    this.callTimeoutMs = callTimeoutMs;
    this.queue = [];
    this.busy = null; // {promise, since} of the call in flight
  }

  async call(input) {
    const item = { input, done: false, value: undefined, error: undefined, wake: null };
    const settled = new Promise((resolve) => {
      item.wake = resolve;
    });
    this.queue.push(item);
    while (!item.done) {
      if (!this.busy || Date.now() - this.busy.since > this.callTimeoutMs + GIVE_UP_MARGIN_MS) {
        const busy = { since: Date.now(), promise: null };
        busy.promise = this.run(this.queue.splice(0, this.max)).finally(() => {
          if (this.busy === busy) this.busy = null;
        });
        this.busy = busy;
      }
      // Awake when this item's batch settles, or when the call in flight does (then the next batch may be
      // this request's to send). run() never rejects.
      await Promise.race([settled, this.busy.promise]);
    }
    if (item.error) throw item.error;
    return item.value;
  }

  async run(batch) {
    try {
      const answers = await withTimeout(this.send(batch.map((i) => i.input)), this.callTimeoutMs, "shard batch call");
      if (!Array.isArray(answers) || answers.length !== batch.length) throw new Error(`shard answered ${Array.isArray(answers) ? answers.length : typeof answers} for ${batch.length} items`);
      batch.forEach((item, i) => {
        item.value = answers[i];
        item.done = true;
      });
    } catch (err) {
      for (const item of batch) {
        item.error = err;
        item.done = true;
      }
    }
    for (const item of batch) item.wake();
  }
}
