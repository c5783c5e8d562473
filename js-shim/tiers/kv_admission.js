// Which entries are worth a Workers KV write. KV allows about 1,000 writes a day on the free plan, and a
// write pays off only if the key is read again from KV; a key requested once (the long tail of a Zipf
// workload, one-off option contracts) never is. So by default a key is written to KV on its second
// request, not its first: the first request's entry goes to the faster tiers only, and the second —
// usually a memory or edge hit — writes the entry it was served. KV_WRITE_AFTER_REQUESTS sets the
// count (1 writes on the first store, as a plain cache would). Counted per isolate: the count that
// matters is "asked again where this entry lives", and isolates share nothing cheaper than KV itself.
// Bounded: the least recently requested keys are forgotten first.
export const DEFAULT_KV_WRITE_AFTER_REQUESTS = 2;
const MAX_TRACKED_KEYS = 10_000;

export class KvWriteAdmission {
  constructor(writeAfterRequests = DEFAULT_KV_WRITE_AFTER_REQUESTS, maxKeys = MAX_TRACKED_KEYS) {
    this.threshold = Math.max(1, writeAfterRequests | 0);
    this.maxKeys = maxKeys;
    // key → {requests, pending}: pending = an entry was stored elsewhere but not yet written to KV.
    this.keys = new Map();
  }

  // One request for a key whose plan includes KV. Returns its count so far.
  noteRequest(key) {
    let rec = this.keys.get(key);
    if (rec === undefined) {
      rec = { requests: 0, pending: false };
      if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value);
    } else {
      this.keys.delete(key); // most recent at the end
    }
    rec.requests++;
    this.keys.set(key, rec);
    return rec.requests;
  }

  // Storing a fresh entry: true when KV should get it now. Otherwise the key is remembered as pending.
  admitStore(key) {
    const rec = this.keys.get(key);
    if (rec !== undefined && rec.requests >= this.threshold) {
      rec.pending = false;
      return true;
    }
    if (rec !== undefined) rec.pending = true;
    else if (this.threshold <= 1) return true;
    return false;
  }

  // A request was served from a faster tier: true (once) when a pending entry has now been asked for
  // often enough, so the entry just served should be written to KV.
  writeDue(key) {
    const rec = this.keys.get(key);
    if (rec === undefined || !rec.pending || rec.requests < this.threshold) return false;
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
