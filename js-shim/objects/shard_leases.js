// Cross-isolate coalescing for one cache shard (cache_shard_durable_object.js): at most one isolate fetches
// an absent key from the origin at a time; the others wait for its store. The shard owns the entries; this
// owns only the leases, and reads entries through the shard's readLive.
//
// getOrLease(key, leaseMs, waitMs) answers one of:
//   {status: "hit", value}         the entry is here (possibly after waiting for the lease holder)
//   {status: "lease", token}       nobody is fetching it: the caller fetches the origin, then calls
//                                  set(key, ...) (which wakes the waiters) or releaseLease(key, token).
//                                  With waitedMs: the caller waited its whole waitMs and the holder
//                                  neither stored nor released — it is gone or stuck, and this caller
//                                  takes the key over (the remaining waiters now wait for it). So a holder
//                                  that dies frees its key after one wait, not when its lease runs out.
//   {status: "miss", waitedMs}     the holder released the key (its fetch failed or may not be stored),
//                                  or another waiter took it over meanwhile: fetch without a lease
// Leases live in memory only: if the object restarts they are gone, and callers simply fetch.

// The holder fetches the origin; others wait at most this long.
const LEASE_MAX_MS = 30_000;
export const WAIT_MAX_MS = 5_000;

export class ShardLeases {
  // stats: the shard's counters (leasesGranted, leaseWaits, ...), updated in place.
  // readLive(key, now): the shard's live bytes for key, or null.
  constructor(stats, readLive) {
    this.stats = stats;
    this.readLive = readLive;
    this.byKey = new Map(); // key → {token, expiresAt, waiters: [resolve]}
  }

  get size() {
    return this.byKey.size;
  }

  async getOrLease(key, leaseMs, waitMs) {
    const now = Date.now();
    const answer = this.hitOrLease(key, leaseMs, now);
    if (answer) return answer;
    const lease = this.byKey.get(key);
    this.stats.leaseWaits++;
    const wait = Math.max(0, Math.min(Number(waitMs) || 0, WAIT_MAX_MS, lease.expiresAt - now));
    // Awaiting a timer (not storage) lets other calls into the object meanwhile: that is how the
    // holder's set() reaches us.
    const got = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = lease.waiters.indexOf(waiter);
        if (i >= 0) lease.waiters.splice(i, 1);
        resolve(null);
      }, wait);
      const waiter = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      lease.waiters.push(waiter);
    });
    const waitedMs = Date.now() - now;
    if (got) {
      this.stats.leaseWaitHits++;
      return { status: "hit", value: got, waitedMs };
    }
    this.stats.leaseWaitTimeouts++;
    if (wait > 0 && this.byKey.get(key) === lease) {
      // The same lease, still unsettled after a whole wait: take it over.
      const value = this.readLive(key);
      if (value) return { status: "hit", value, waitedMs };
      const token = crypto.randomUUID();
      const ms = Math.min(Math.max(Number(leaseMs) || 0, 100), LEASE_MAX_MS);
      this.byKey.set(key, { token, expiresAt: Date.now() + ms, waiters: lease.waiters });
      this.stats.leasesTakenOver++;
      return { status: "lease", token, leaseMs: ms, waitedMs };
    }
    return { status: "miss", waitedMs };
  }

  // The answers getOrLease gives without waiting: the entry, or a lease when nobody holds a live one.
  // null: another caller holds the key's lease.
  hitOrLease(key, leaseMs, now) {
    const value = this.readLive(key, now);
    if (value) return { status: "hit", value };
    const lease = this.byKey.get(key);
    if (lease && lease.expiresAt > now) return null;
    if (lease) this.wake(lease, null); // an abandoned lease: its waiters go and fetch
    const token = crypto.randomUUID();
    const ms = Math.min(Math.max(Number(leaseMs) || 0, 100), LEASE_MAX_MS);
    this.byKey.set(key, { token, expiresAt: now + ms, waiters: [] });
    this.stats.leasesGranted++;
    return { status: "lease", token, leaseMs: ms };
  }

  // The holder gives up (origin failed, or the response may not be stored): waiters fetch themselves.
  release(key, token) {
    const lease = this.byKey.get(key);
    if (!lease || lease.token !== token) return false;
    this.byKey.delete(key);
    this.wake(lease, null);
    this.stats.leasesReleased++;
    return true;
  }

  // The key was stored: its waiters get the bytes.
  settle(key, bytes) {
    const lease = this.byKey.get(key);
    if (!lease) return;
    this.byKey.delete(key);
    this.wake(lease, bytes);
  }

  wake(lease, value) {
    const waiters = lease.waiters.splice(0);
    for (const w of waiters) w(value);
  }
}
