// The isolate's link to the control object (the CONTROL_DO object named "metrics",
// objects/control_durable_object.js): one round trip,
// at most every METRICS_FLUSH_INTERVAL_MS (default 5 s), that
//   - adds this isolate's counter deltas to the merged totals, and its hits per key since the last flush (at most
//     the top_keys.js FLUSH_MAX_KEYS largest) to today's top keys, and
//   - pulls the purge records this isolate has not seen, dropping matching memory entries.
// maybeFlushMetrics is cheap enough to call on every request: unless a flush is due it is one
// timestamp comparison; when due, the round trip runs in ctx.waitUntil, off the response's path.
// Without the CONTROL_DO binding, or with Durable Objects switched off (FEATURE_FLAG_DO_CACHE="false"), there is
// no control object: counters stay per isolate and purges reach only this isolate and the shared tier.
import { metrics } from "./metrics.js";
import { applyPurgeRecords } from "./purge_log.js";
import { isolate } from "./isolate_context.js";
import { runtimeConfig } from "./runtime_config.js";
import { memoryTier } from "./tiers/memory_tier.js";
import { logEvent } from "./responses.js";
import { withTimeout } from "./timeouts.js";

export const CONTROL_OBJECT_NAME = "metrics";
const SYNC_TIMEOUT_MS = 3000;

// This isolate's sync state is isolate.controlSync (isolate_context.js): nextSyncAt (0: the first request of a
// new isolate syncs, and learns the purge log, at once), the queue, syncedOnce, lastSync.

export function controlStub(env) {
  if (!env.CONTROL_DO || !runtimeConfig(env).doCacheEnabled) return null;
  return env.CONTROL_DO.get(env.CONTROL_DO.idFromName(CONTROL_OBJECT_NAME));
}

export function maybeFlushMetrics(env, ctx, nowMs = Date.now()) {
  const sync = isolate.controlSync;
  if (nowMs < sync.nextSyncAt) return false;
  sync.nextSyncAt = nowMs + runtimeConfig(env).metricsFlushIntervalMs;
  const done = syncNow(env);
  if (ctx && typeof ctx.waitUntil === "function") ctx.waitUntil(done);
  return true;
}

// Flushes now (awaitable: scheduled() and the metrics endpoint use it). Syncs are serialised so two
// overlapping flushes never send the same delta twice. Resolves to the control object's answer, or
// null when there is no control object or it failed (the failure is logged and counted; the delta
// stays unflushed and goes with the next sync).
export function syncNow(env, { wantTotals = false } = {}) {
  const sync = isolate.controlSync;
  const run = sync.queue.then(() => doSync(env, wantTotals));
  sync.queue = run.catch(() => {});
  return run;
}

async function doSync(env, wantTotals) {
  const stub = controlStub(env);
  if (!stub) return null;
  const flush = metrics.beginFlush();
  const keysFlush = isolate.topKeys.beginFlush();
  const sync = isolate.controlSync;
  const purgeLog = isolate.purgeLog;
  try {
    const res = await withTimeout(
      stub.sync({ delta: flush.delta, topKeys: keysFlush.deltas, sinceSeq: purgeLog.seq, firstSync: !sync.syncedOnce, wantTotals }),
      SYNC_TIMEOUT_MS, "control sync");
    flush.commit(res.kvWritesToday);
    keysFlush.commit();
    sync.syncedOnce = true;
    const cfg = runtimeConfig(env);
    const dropped = applyPurgeRecords(purgeLog, res.records, memoryTier(cfg.memoryCacheBytes));
    if (res.seq > purgeLog.seq) purgeLog.seq = res.seq;
    if (res.more) sync.nextSyncAt = 0; // more records waiting: pull them on the next request
    sync.lastSync = { at: new Date().toISOString(), ok: true, error: null };
    if (dropped) logEvent("info", "purge_applied", { records: res.records.length, memoryDropped: dropped, seq: purgeLog.seq });
    return res;
  } catch (err) {
    metrics.tierError("do");
    sync.lastSync = { at: new Date().toISOString(), ok: false, error: String(err?.message || err) };
    logEvent("warn", "control_sync_failed", { message: sync.lastSync.error });
    return null;
  }
}

export function controlStatus() {
  return { ...isolate.controlSync.lastSync, purgeSeq: isolate.purgeLog.seq, purgeRecords: isolate.purgeLog.size };
}
