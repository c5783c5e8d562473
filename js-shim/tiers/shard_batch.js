// Calls to one Durable Object shard, batched: at most one call in flight per shard and kind; what arrives
// meanwhile goes out together in the next call (up to `max` items). No timer: a lone request goes at once,
// and batches form only while the shard is busy — under a burst of cold keys, when RPCs are what costs.
//
// Each request sends the batch its item is in from its own code path (it waits for the call in flight, then
// either finds its item answered or sends the next batch itself): a call is never left to a request that
// may already have ended (workerd cancels the I/O of a finished request), and the answers are plain data.
// Callers keep their own deadlines (tier_set.js withTimeout), which also keep a waiting request from looking
// hung to workerd.
export class ShardBatcher {
  // send(items) → Promise<array of answers, one per item, in order>
  constructor(send, max) {
    this.send = send;
    this.max = max;
    this.queue = [];
    this.busy = null; // the promise of the call in flight
  }

  async call(input) {
    const item = { input, done: false, value: undefined, error: undefined };
    this.queue.push(item);
    while (!item.done) {
      if (!this.busy) {
        const running = this.run(this.queue.splice(0, this.max));
        this.busy = running;
        // Registered before anyone awaits it, so it runs first: whoever wakes up finds the shard free.
        running.then(() => {
          if (this.busy === running) this.busy = null;
        });
      }
      await this.busy; // run() settles every item of its batch and never rejects
    }
    if (item.error) throw item.error;
    return item.value;
  }

  async run(batch) {
    try {
      const answers = await this.send(batch.map((i) => i.input));
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
  }
}
