// The cron handler: warms the URLs the rules list under "warm" through the normal serving path (so
// they are fetched only when not already fresh), flushes this isolate's metrics (and pulls the purge
// log) with the control object, then logs one summary line.
import { getCore } from "./core_bridge.js";
import { syncNow } from "./control_sync.js";
import { handleRequest } from "./cache_handler.js";
import { runtimeConfig } from "./runtime_config.js";
import { logEvent } from "./responses.js";
import { mountPrefix } from "./mount.js";

// Scheduled events have no request URL; the edge tier keys on a host, so warming uses WARM_HOST
// (the worker's public hostname) when set.
const DEFAULT_WARM_HOST = "https://edge-cache.internal";
const WARM_CONCURRENCY = 4;

export async function runScheduled(event, env, ctx) {
  const cfg = runtimeConfig(env);
  const started = Date.now();
  const summary = { cron: event.cron, warmed: 0, hits: 0, misses: 0, failed: 0, statuses: {} };
  let warm = [];
  // The warm list holds the rules' paths (the origin's); clients, and so the warmer, ask under MOUNT_PATH.
  let mount = "";
  try {
    const report = getCore(env).report;
    warm = report.warm || [];
    mount = mountPrefix(report);
  } catch (err) {
    logEvent("error", "scheduled_core_unavailable", { message: String(err?.message || err) });
    return summary;
  }
  const host = (env.WARM_HOST || DEFAULT_WARM_HOST).replace(/\/$/, "");
  const queue = warm.slice();
  const workers = Array.from({ length: Math.min(WARM_CONCURRENCY, queue.length) }, async () => {
    while (queue.length) {
      const path = queue.shift();
      try {
        const res = await handleRequest(new Request(host + mount + path, { headers: { "user-agent": "edge-cache-warmer" } }), env, ctx, cfg, { warming: true });
        await res.arrayBuffer();
        const status = res.headers.get("cache-status") || "NONE";
        summary.statuses[status] = (summary.statuses[status] || 0) + 1;
        if (res.status < 400) summary.warmed++;
        else summary.failed++;
        if (status === "HIT") summary.hits++;
        else summary.misses++;
      } catch (err) {
        summary.failed++;
        logEvent("warn", "warm_failed", { path, message: String(err?.message || err) });
      }
    }
  });
  await Promise.all(workers);
  // Warming wrote through ctx.waitUntil; the flush is awaited here so the run's counters are in the
  // totals when scheduled() returns.
  const synced = await syncNow(env);
  summary.metricsFlushed = Boolean(synced);
  summary.durationMs = Date.now() - started;
  logEvent("info", "scheduled_summary", summary);
  return summary;
}
