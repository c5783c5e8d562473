// The isolate's link to the control object (the CONTROL_DO object named "metrics",
// objects/control_durable_object.js): one round trip,
// at most every METRICS_FLUSH_INTERVAL_MS (default 5 s), that
//   - adds this isolate's counter deltas to the merged totals, and
//   - pulls the purge records this isolate has not seen, dropping matching memory entries.
// maybeFlushMetrics is cheap enough to call on every request: unless a flush is due it is one
// timestamp comparison; when due, the round trip runs in ctx.waitUntil, off the response's path.
// Without the CONTROL_DO binding, or with Durable Objects switched off (FEATURE_FLAG_DO_CACHE="false"), there is
// no control object: counters stay per isolate and purges reach only this isolate and the shared tier.
import { metrics } from "./metrics.js";
import { applyPurgeRecords, purgeLog } from "./purge_log.js";
import { runtimeConfig } from "./runtime_config.js";
import { memoryTier } from "./tiers/memory_tier.js";
import { logEvent } from "./responses.js";
import { withTimeout } from "./timeouts.js";

export const CONTROL_OBJECT_NAME = "metrics";
const SYNC_TIMEOUT_MS = 3000;

let nextSyncAt = 0; // 0: the first request of a new isolate syncs (and learns the purge log) at once
let queue = Promise.resolve();
let syncedOnce = false;
let lastSync = { at: null, ok: null, error: null };

export function controlStub(env) {
  if (!env.CONTROL_DO || !runtimeConfig(env).doCacheEnabled) return null;
  return env.CONTROL_DO.get(env.CONTROL_DO.idFromName(CONTROL_OBJECT_NAME));
}

export function maybeFlushMetrics(env, ctx, nowMs = Date.now()) {
  if (nowMs < nextSyncAt) return false;
  nextSyncAt = nowMs + runtimeConfig(env).metricsFlushIntervalMs;
  const done = syncNow(env);
  if (ctx && typeof ctx.waitUntil === "function") ctx.waitUntil(done);
  return true;
}

// Flushes now (awaitable: scheduled() and the metrics endpoint use it). Syncs are serialised so two
// overlapping flushes never send the same delta twice. Resolves to the control object's answer, or
// null when there is no control object or it failed (the failure is logged and counted; the delta
// stays unflushed and goes with the next sync).
export function syncNow(env, { wantTotals = false } = {}) {
  const run = queue.then(() => doSync(env, wantTotals));
  queue = run.catch(() => {});
  return run;
}

async function doSync(env, wantTotals) {
  const stub = controlStub(env);
  if (!stub) return null;
  const flush = metrics.beginFlush();
  try {
    const res = await withTimeout(
      stub.sync({ delta: flush.delta, sinceSeq: purgeLog.seq, firstSync: !syncedOnce, wantTotals }), SYNC_TIMEOUT_MS, "control sync");
    flush.commit(res.kvWritesToday);
    syncedOnce = true;
    const cfg = runtimeConfig(env);
    const dropped = applyPurgeRecords(res.records, memoryTier(cfg.memoryCacheBytes));
    if (res.seq > purgeLog.seq) purgeLog.seq = res.seq;
    if (res.more) nextSyncAt = 0; // more records waiting: pull them on the next request
    lastSync = { at: new Date().toISOString(), ok: true, error: null };
    if (dropped) logEvent("info", "purge_applied", { records: res.records.length, memoryDropped: dropped, seq: purgeLog.seq });
    return res;
  } catch (err) {
    metrics.tierError("do");
    lastSync = { at: new Date().toISOString(), ok: false, error: String(err?.message || err) };
    logEvent("warn", "control_sync_failed", { message: lastSync.error });
    return null;
  }
}

export function controlStatus() {
  return { ...lastSync, purgeSeq: purgeLog.seq, purgeRecords: purgeLog.size };
}

// Test hook: a new isolate's state.
export function _resetControlSyncForTests() {
  nextSyncAt = 0;
  syncedOnce = false;
}
