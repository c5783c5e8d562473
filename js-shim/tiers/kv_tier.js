// The Workers KV tier (the fallback shared tier, global, eventually consistent): entries as the core's
// envelope, with the stored-at time and the tags in the key's metadata so a tag purge can find them by
// listing. KV has no delete-by-query: prefix and tag purges list and delete, bounded per call (truncated:
// true says matches remain). Writes are scarce (kv_admission.js, KV_DAILY_WRITE_LIMIT). Beyond the tier
// interface (tier.js): purgeKeys for a batch of exact keys, health().
import { DEFAULT_KV_WRITE_AFTER_REQUESTS, kvWriteAdmission } from "./kv_admission.js";
import { TIER_SCOPES } from "./tier.js";
import { asBytes, entryToEnvelope, envelopeToEntry, retentionSeconds } from "./entry_envelope.js";
import { metrics } from "../metrics.js";

// The smallest expirationTtl KV accepts.
export const KV_MIN_TTL_S = 60;
// KV metadata is limited to 1 KiB: tags beyond what fits are left out (a tag purge then cannot find
// the entry by tag, but the purge log still hides it from every tier that checks the log).
const KV_METADATA_MAX_BYTES = 1000;
// Listing + deleting for a KV prefix/tag purge is bounded per request: each call is a subrequest.
export const KV_PURGE_MAX_DELETES = 900;

const DESCRIPTION = Object.freeze({
  name: "kv",
  scope: TIER_SCOPES.global,
  supports: Object.freeze({
    storesBytes: true, purgePrefix: "list-and-delete", purgeTags: "list-and-delete", retention: "ttl-plus-stale-windows",
    minRetentionS: KV_MIN_TTL_S, coalescing: false,
  }),
});

function kvMetadata(entry) {
  const tags = [];
  let size = 40;
  for (const t of entry.tags || []) {
    size += t.length * 3 + 3;
    if (size > KV_METADATA_MAX_BYTES) break;
    tags.push(t);
  }
  return { s: entry.storedAtMs, t: tags };
}

function is429(err) {
  return /\b429\b|too many requests/i.test(String(err?.message || err));
}

export class KvTier {
  constructor(kv, core, dailyWriteLimit = 0, writeAfterRequests = DEFAULT_KV_WRITE_AFTER_REQUESTS) {
    this.name = "kv";
    this.kv = kv;
    this.core = core;
    this.dailyWriteLimit = dailyWriteLimit;
    // Which stores reach KV at all (kv_admission.js); null writes every store, as before.
    this.admission = writeAfterRequests > 1 ? kvWriteAdmission(writeAfterRequests) : null;
  }
  async get(key) {
    const bytes = await this.kv.get(key, "arrayBuffer");
    if (bytes === null || bytes === undefined) return null;
    return envelopeToEntry(this.core, key, asBytes(bytes));
  }
  // Returns false when the write was skipped on purpose (so it is not counted as a write).
  async put(key, entry) {
    // The free plan allows 1,000 writes a day: past the configured budget (this isolate's count plus
    // the other isolates' flushed totals) writes stop until the next UTC day.
    if (this.dailyWriteLimit > 0 && metrics.kvWritesToday() >= this.dailyWriteLimit) {
      metrics.kvWriteSkipped("budget");
      return false;
    }
    const bytes = entryToEnvelope(this.core, entry);
    try {
      await this.kv.put(key, bytes, {
        expirationTtl: Math.max(KV_MIN_TTL_S, retentionSeconds(entry)),
        metadata: kvMetadata(entry),
      });
    } catch (err) {
      // One write per second per key: a 429 is skipped and counted, never retried in a storm.
      if (is429(err)) {
        metrics.kvWriteSkipped("429");
        return false;
      }
      throw err;
    }
    return true;
  }
  async delete(key) {
    await this.kv.delete(key);
  }

  describe() {
    return DESCRIPTION;
  }

  // A read only: KV writes are too scarce to spend on a health probe.
  async health() {
    await this.kv.get("__edge-cache/health-probe");
    return { status: "healthy" };
  }

  async purgeKeys(items) {
    let removed = 0;
    for (const { key } of items) {
      await this.kv.delete(key);
      removed++;
    }
    return { removed };
  }
  async purgePrefix(prefix) {
    return this.purgeListed({ prefix }, () => true);
  }
  async purgeTags(tags) {
    const wanted = new Set(tags);
    return this.purgeListed({}, (k) => Array.isArray(k.metadata?.t) && k.metadata.t.some((t) => wanted.has(t)));
  }
  // KV has no delete-by-query: list (metadata included), then delete the matches, bounded per call.
  async purgeListed(options, match) {
    let removed = 0;
    let cursor;
    do {
      const page = await this.kv.list({ ...options, cursor });
      for (const k of page.keys) {
        if (!match(k)) continue;
        if (removed >= KV_PURGE_MAX_DELETES) return { removed, truncated: true };
        await this.kv.delete(k.name);
        removed++;
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return { removed, truncated: false };
  }
}
