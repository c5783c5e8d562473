// The worker's entry module: `fetch` and `scheduled`, and the error boundary around them. Everything
// the worker decides comes from the C++ core (see core_bridge.js); the modules here move bytes.
import { handleRequest } from "./cache_handler.js";
import { isCoreTrap } from "./core_bridge.js";
import { runtimeConfig } from "./runtime_config.js";
import { jsonError, logEvent } from "./responses.js";
import { runScheduled } from "./scheduled.js";

export { CacheDurableObject } from "./objects/cache_shard_durable_object.js";
export { ControlDurableObject } from "./objects/control_durable_object.js";
export { RateLimiterDurableObject } from "./objects/rate_limiter_durable_object.js";
export { UpstreamQuotaDurableObject } from "./objects/upstream_quota_durable_object.js";

export default {
  async fetch(request, env, ctx) {
    const cfg = runtimeConfig(env);
    try {
      return await answerSurvivingTraps(request, env, ctx, cfg);
    } catch (err) {
      // The last line of defence: logged as one structured line, answered as JSON, never a stack trace.
      logEvent("error", "unhandled_exception", {
        message: String(err?.message || err), name: err?.name, method: request.method, path: new URL(request.url).pathname,
      });
      return jsonError(500, "internal error while handling the request", cfg);
    }
  },

  async scheduled(event, env, ctx) {
    await runScheduled(event, env, ctx);
  },
};

// A trap in the core (any export: deciding, evaluating or decoding an entry, the store verdict...) has dropped its
// instance (core/instance.js). The request is answered again with a fresh instance — a trap caused by a corrupted
// instance does not recur, and a tier's data is served — and if that traps too (an input that always traps),
// without the core: a plain proxy to the origin. Never a 500 for a trap. Only while the request's body is unread
// (GET and HEAD have none): a consumed body cannot be sent again. What the failed attempt already did (a rate-limit
// count, an origin fetch) is not undone: a trap is rare, and counted in /health's core.traps.
async function answerSurvivingTraps(request, env, ctx, cfg) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handleRequest(request, env, ctx, cfg, attempt === 3 ? { withoutCore: new Error("the core trapped twice on this request") } : {});
    } catch (err) {
      if (!isCoreTrap(err) || attempt >= 3 || request.bodyUsed) throw err;
      logEvent("warn", "core_trap_retry", { attempt, method: request.method, next: attempt === 1 ? "fresh core" : "without the core" });
    }
  }
}

