// Which entries are worth a Workers KV write. KV allows about 1,000 writes a day on the free plan, and a
// write pays off only if the key is read again from KV; a key requested once (the long tail of a Zipf
// workload, one-off option contracts) never is. So by default a key is written to KV on its second
// request, not its first: the first request's entry goes to the faster tiers only, and the second —
// usually a memory or edge hit — writes the entry it was served. KV_WRITE_AFTER_REQUESTS sets the
// count (1 writes on the first store, as a plain cache would). Counted per isolate: the count that
// matters is "asked again where this entry lives", and isolates share nothing cheaper than KV itself.
// Bounded: the least recently requested keys are forgotten first.
//
// A deferred write is made only with the very entry that was stored (same stored-at time) and within
// PENDING_MAX_AGE_MS of that store: KV's copy outlives every isolate, so an old copy served from one
// isolate's memory after a purge elsewhere must not go back into KV (the caller also asks the purge log).
import { isolate } from "../isolate_context.js";

export const DEFAULT_KV_WRITE_AFTER_REQUESTS = 2;
const MAX_TRACKED_KEYS = 10_000;
export const PENDING_MAX_AGE_MS = 60 * 60 * 1000;

export class KvWriteAdmission {
  constructor(writeAfterRequests = DEFAULT_KV_WRITE_AFTER_REQUESTS, maxKeys = MAX_TRACKED_KEYS) {
    this.threshold = Math.max(1, writeAfterRequests | 0);
    this.maxKeys = maxKeys;
    // key → {requests, pending, storedAtMs, sinceMs}: pending = an entry (stored at storedAtMs, at sinceMs)
    // went to the faster tiers but not yet to KV.
    this.keys = new Map();
  }

  // One request for a key whose plan includes KV. Returns its count so far. `admit`: the request is one
  // the operator asked for (the cron's warm list), so the key counts as asked for often enough.
  noteRequest(key, admit = false) {
    let rec = this.keys.get(key);
    if (rec === undefined) {
      rec = { requests: 0, pending: false, storedAtMs: 0, sinceMs: 0 };
      if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value);
    } else {
      this.keys.delete(key); // most recent at the end
    }
    rec.requests = admit ? Math.max(rec.requests + 1, this.threshold) : rec.requests + 1;
    this.keys.set(key, rec);
    return rec.requests;
  }

  // Storing `entry` at nowMs: true when KV should get it now. Otherwise it is remembered as pending.
  admitStore(key, entry, nowMs) {
    const rec = this.keys.get(key);
    if (rec === undefined) return this.threshold <= 1;
    if (rec.requests >= this.threshold) {
      rec.pending = false;
      return true;
    }
    rec.pending = true;
    rec.storedAtMs = entry.storedAtMs;
    rec.sinceMs = nowMs;
    return false;
  }

  // `entry` was served from a faster tier at nowMs: true (once) when it is the pending entry, still
  // recent, and its key has now been asked for often enough — so it should be written to KV.
  writeDue(key, entry, nowMs) {
    const rec = this.keys.get(key);
    if (rec === undefined || !rec.pending || rec.requests < this.threshold) return false;
    if (entry.storedAtMs !== rec.storedAtMs || nowMs - rec.sinceMs > PENDING_MAX_AGE_MS) return false;
    rec.pending = false;
    return true;
  }

  // The entry came from KV: nothing is pending.
  servedFromKv(key) {
    const rec = this.keys.get(key);
    if (rec !== undefined) rec.pending = false;
  }

  stats() {
    let pending = 0;
    for (const rec of this.keys.values()) if (rec.pending) pending++;
    return { writeAfterRequests: this.threshold, trackedKeys: this.keys.size, pending };
  }
}

// The isolate's instance (isolate_context.js), like the memory tier's: every tier set (user hosts, the cron's
// warm host) counts into the same one, since they share the memory tier the deferred writes are served from.
export function kvWriteAdmission(writeAfterRequests = DEFAULT_KV_WRITE_AFTER_REQUESTS) {
  const threshold = Math.max(1, writeAfterRequests | 0);
  const current = isolate.kvAdmission;
  if (current !== null && current.threshold === threshold) return current;
  return (isolate.kvAdmission = new KvWriteAdmission(threshold));
}
