// Single-flight per key within this isolate: the first caller runs `work`, later callers for the same
// key await the same promise. The entry is removed when it settles, success or failure. No imports: the
// isolate's instances live in isolate_context.js, and this loads in plain Node.
export class SingleFlight {
  constructor() {
    this.inflight = new Map();
    this.coalesced = 0;
  }
  run(key, work) {
    const existing = this.inflight.get(key);
    if (existing) {
      this.coalesced++;
      return { promise: existing, leader: false };
    }
    const promise = (async () => work())();
    this.inflight.set(key, promise);
    const clear = () => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    };
    promise.then(clear, clear);
    return { promise, leader: true };
  }
  has(key) {
    return this.inflight.has(key);
  }
}
