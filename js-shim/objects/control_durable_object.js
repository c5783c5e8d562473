// ControlDurableObject (bound as CONTROL_DO, SQLite-backed): the one control object of a deployment, named
// "metrics" (control_sync.js CONTROL_OBJECT_NAME). It keeps
//   - the merged per-isolate counters, which every isolate adds its deltas to (sync), and
//   - the purge log, which isolates pull to drop purged entries from their memory and edge tiers, and
//   - today's hits per cache key (UTC), merged from the isolates' flushes: one JSON row, at most
//     top_keys.js DAY_MAX_KEYS keys, replaced when the day changes; the dashboard's overview lists its top.
// The cache entries live in the shards (cache_shard_durable_object.js); this object never sees one.
// Before it had a class of its own, the control object was the CacheDurableObject named "metrics": its data
// is imported from there on the first call (legacy_control.js), so a deployment keeps its totals and log.
import { DurableObject } from "cloudflare:workers";
import { IMPORT_MARKER, importLegacyControl, legacyControlStub, legacyImportDone } from "./legacy_control.js";
import { HistoryTable } from "../metrics_history.js";
import { OVERVIEW_KEYS, TopKeysTable, validDeltas } from "../top_keys.js";

// The purge log keeps this many records; isolates fetch at most this many per sync.
const PURGE_LOG_MAX_RECORDS = 1000;

export class ControlDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.totals = null; // merged counters, loaded lazily
    this.legacyImported = false; // set once the import from the old control object is known to be done
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec("CREATE TABLE IF NOT EXISTS control (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      this.sql.exec(`CREATE TABLE IF NOT EXISTS purge_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, value TEXT NOT NULL, at INTEGER NOT NULL)`);
      this.legacyImported = legacyImportDone(this.sql);
    });
  }

  // Every RPC awaits this first. Once per object's storage: reads the old control object and writes its rows
  // here, holding other calls meanwhile (blockConcurrencyWhile), so no sync or purge lands before the old data.
  // If the old object cannot be read, the call fails (the isolate's delta stays unflushed, a purge reports the
  // log's failure) and the next call tries again. The failure is returned out of blockConcurrencyWhile, not
  // thrown inside it: a throw there would reset the object.
  async ready() {
    if (this.legacyImported) return;
    const failure = await this.ctx.blockConcurrencyWhile(async () => {
      if (this.legacyImported) return null;
      try {
        const stub = legacyControlStub(this.env);
        const exported = stub ? await stub.exportLegacyControl() : null;
        const marker = importLegacyControl(this.ctx.storage, exported);
        this.totals = null;
        this.legacyImported = true;
        // Logged when there was something to move (a new deployment has nothing, and says nothing).
        if (marker.totals || marker.purgeRecords > 0) console.log(JSON.stringify({ level: "info", event: "control_legacy_imported", ...marker }));
        return null;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    });
    if (failure) throw new Error(`control object: importing the previous control data failed: ${failure.message}`);
  }

  loadTotals() {
    if (this.totals) return this.totals;
    const row = this.sql.exec("SELECT value FROM control WHERE name = 'totals'").toArray()[0];
    let parsed = null;
    try {
      parsed = row ? JSON.parse(row.value) : null;
    } catch {
      parsed = null; // a damaged row restarts the totals rather than failing every sync
    }
    this.totals = parsed && typeof parsed === "object" ? parsed : { since: Date.now(), counters: {}, isolates: 0, syncs: 0 };
    return this.totals;
  }

  // One round trip per isolate every few seconds: adds the isolate's counter deltas (flat
  // {name: number}) to the totals and its hits per key ([{key, hits}]; optional: isolates of an older version do
  // not send it) to today's table, and returns the purge records after sinceSeq.
  async sync({ delta = {}, topKeys = [], sinceSeq = 0, firstSync = false, wantTotals = false } = {}) {
    await this.ready();
    const totals = this.loadTotals();
    let changed = false;
    for (const [name, v] of Object.entries(delta || {})) {
      if (typeof v !== "number" || !Number.isFinite(v) || v === 0 || name.length > 100) continue;
      totals.counters[name] = (totals.counters[name] || 0) + v;
      changed = true;
    }
    if (firstSync) {
      totals.isolates++;
      changed = true;
    }
    totals.syncs++;
    // One row write per sync that carries data, whatever the number of counters.
    if (changed) this.sql.exec("INSERT OR REPLACE INTO control (name, value) VALUES ('totals', ?)", JSON.stringify(this.pruneDays(totals)));
    // The dashboard's per-minute history (metrics_history.js): one more row write, for the current minute.
    if (changed) this.metricsHistoryTable().record(delta, Date.now());
    // Hits per key: one more row write, only for a sync that brought some.
    const keyDeltas = validDeltas(topKeys);
    if (keyDeltas.length) this.topKeysTable().merge(keyDeltas, Date.now());
    const out = this.purgeRecords(sinceSeq);
    // Every isolate learns today's KV write total on each sync: it enforces the daily write budget.
    out.kvWritesToday = totals.counters[`kv.writes.${new Date().toISOString().slice(0, 10)}`] || 0;
    if (wantTotals) out.totals = structuredClone(totals);
    return out;
  }

  // KV write counters are per UTC day ("kv.writes.YYYY-MM-DD"); a week of them is kept.
  pruneDays(totals) {
    const cutoff = new Date(Date.now() - 7 * 86400_000).toISOString().slice(0, 10);
    for (const name of Object.keys(totals.counters)) {
      const m = /^kv\.[a-z]+\.(\d{4}-\d{2}-\d{2})$/.exec(name);
      if (m && m[1] < cutoff) delete totals.counters[name];
    }
    return totals;
  }

  purgeRecords(sinceSeq) {
    let since = Number(sinceSeq);
    if (!Number.isFinite(since) || since < 0) since = 0;
    const last = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS s FROM purge_log").one().s;
    // An isolate ahead of the log means the log was reset (storage wiped): send it from the start.
    if (since > last) since = 0;
    const records = this.sql.exec(
      "SELECT seq, kind, value, at FROM purge_log WHERE seq > ? ORDER BY seq LIMIT ?", since, PURGE_LOG_MAX_RECORDS).toArray();
    const seq = records.length ? records[records.length - 1].seq : since;
    return { seq, lastSeq: last, records, more: seq < last };
  }

  async metricsTotals() {
    await this.ready();
    return structuredClone(this.loadTotals());
  }

  // The per-minute buckets of the last 24 hours, oldest first (metrics_history.js; the table is made on first use).
  metricsHistoryTable() {
    this.history ??= new HistoryTable(this.sql);
    return this.history;
  }

  async metricsHistory() {
    await this.ready();
    return this.metricsHistoryTable().read(Date.now());
  }

  // Today's hits per key (top_keys.js; the row is in the control table).
  topKeysTable() {
    this.keysTable ??= new TopKeysTable(this.sql);
    return this.keysTable;
  }

  // Today's (UTC) keys with the most hits across every isolate that has flushed: {day, keys: [{key, hits}]}, most first.
  async topKeys(limit = OVERVIEW_KEYS) {
    await this.ready();
    return this.topKeysTable().top(Date.now(), limit);
  }

  // Appends purge records ({kind: "key"|"prefix"|"tag", value}) and trims the log to its cap.
  async recordPurge(items) {
    if (!Array.isArray(items) || items.length === 0 || items.length > 1000) throw new RangeError("1 to 1000 purge records per call");
    await this.ready();
    const at = Date.now();
    let seq = 0;
    for (const { kind, value } of items) {
      if (!["key", "prefix", "tag"].includes(kind) || typeof value !== "string" || !value) throw new TypeError("bad purge record");
      seq = this.sql.exec("INSERT INTO purge_log (kind, value, at) VALUES (?, ?, ?) RETURNING seq", kind, value, at).one().seq;
    }
    this.sql.exec("DELETE FROM purge_log WHERE seq <= ?", seq - PURGE_LOG_MAX_RECORDS);
    return { seq, at };
  }

  // What the import from the old control object did: its marker ({from, at, totals, purgeRecords, lastSeq}),
  // or null before it ran. For operators and tests; no isolate needs it.
  async legacyImportStatus() {
    const row = this.sql.exec("SELECT value FROM control WHERE name = ?", IMPORT_MARKER).toArray()[0];
    return row ? JSON.parse(row.value) : null;
  }
}
