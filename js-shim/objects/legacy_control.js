// The control data of the release before the split, read once and moved into the control object.
//
// Until the control object had a class of its own (ControlDurableObject, binding CONTROL_DO), it was the
// CacheDurableObject named "metrics" (binding CACHE_DO), with two tables:
//   control(name TEXT PRIMARY KEY, value TEXT)   the row 'totals': the merged counters as JSON
//   purge_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, value TEXT, at INTEGER)
// A deployment that ran that release holds its totals and purge log there. The control object imports them
// on its first call (control_durable_object.js), before it answers anything, and records that it did in its
// own control table, so the import runs once. The old rows are left where they are: read-only from then on,
// they are what a redeploy of the older release would find (a Cloudflare rollback across the migration that
// added ControlDurableObject is refused by the platform). Both sides keep the same table shapes, so the import
// copies rows; purge records keep their seq, so isolates that already pulled part of the log go on from there.

export const LEGACY_CONTROL_OBJECT_NAME = "metrics";
// The control-table row recording the import (or that there was nothing to import).
export const IMPORT_MARKER = "legacy-import";

// Shard side (CacheDurableObject.exportLegacyControl): what this object holds of the old control role.
// {totals: the 'totals' row's JSON text | null, purgeRecords: [{seq, kind, value, at}] in seq order}.
// Objects that never held control data (every cache shard; a deployment created after the split) answer
// {totals: null, purgeRecords: []}.
export function readLegacyControl(sql) {
  const tables = new Set(sql.exec(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('control', 'purge_log')").toArray().map((r) => r.name));
  const row = tables.has("control") ? sql.exec("SELECT value FROM control WHERE name = 'totals'").toArray()[0] : undefined;
  const purgeRecords = tables.has("purge_log")
    ? sql.exec("SELECT seq, kind, value, at FROM purge_log ORDER BY seq").toArray()
    : [];
  return { totals: row ? row.value : null, purgeRecords };
}

// Control side: whether the import already ran in this object.
export function legacyImportDone(sql) {
  return sql.exec("SELECT 1 FROM control WHERE name = ?", IMPORT_MARKER).toArray().length > 0;
}

// The stub of the old control object, or null when this deployment has no CACHE_DO (then there is nothing
// to import).
export function legacyControlStub(env) {
  const ns = env.CACHE_DO;
  return ns ? ns.get(ns.idFromName(LEGACY_CONTROL_OBJECT_NAME)) : null;
}

// Writes what readLegacyControl returned (null: nothing to import) into the control object's tables, with
// the marker, in one transaction: either all of it lands or none and the next call tries again. Rows the
// control object already has win (there are none unless an import raced a write, which the caller's
// blockConcurrencyWhile prevents). Returns the marker's content.
export function importLegacyControl(storage, exported, nowMs = Date.now()) {
  const sql = storage.sql;
  const totals = typeof exported?.totals === "string" ? exported.totals : null;
  const records = Array.isArray(exported?.purgeRecords) ? exported.purgeRecords : [];
  const marker = { from: `CACHE_DO:${LEGACY_CONTROL_OBJECT_NAME}`, at: nowMs, totals: totals !== null, purgeRecords: 0, lastSeq: 0 };
  storage.transactionSync(() => {
    if (totals !== null) sql.exec("INSERT OR IGNORE INTO control (name, value) VALUES ('totals', ?)", totals);
    for (const r of records) {
      if (!Number.isSafeInteger(r?.seq) || r.seq <= 0 || typeof r.kind !== "string" || typeof r.value !== "string") continue;
      // An explicit seq also advances the AUTOINCREMENT counter, so new records follow the old ones.
      sql.exec("INSERT OR IGNORE INTO purge_log (seq, kind, value, at) VALUES (?, ?, ?, ?)", r.seq, r.kind, r.value, Number(r.at) || 0);
      marker.purgeRecords++;
      marker.lastSeq = Math.max(marker.lastSeq, r.seq);
    }
    sql.exec("INSERT OR REPLACE INTO control (name, value) VALUES (?, ?)", IMPORT_MARKER, JSON.stringify(marker));
  });
  return marker;
}
