// The worker's entry module: `fetch` and `scheduled`, and the error boundary around them. Everything
// the worker decides comes from the C++ core (see core_bridge.js); the modules here move bytes.
import { handleRequest } from "./cache_handler.js";
import { runtimeConfig } from "./runtime_config.js";
import { jsonError, logEvent } from "./responses.js";
import { runScheduled } from "./scheduled.js";

export { CacheDurableObject } from "./cache_durable_object.js";
export { RateLimiterDurableObject } from "./rate_limiter_durable_object.js";
export { UpstreamQuotaDurableObject } from "./upstream_quota_durable_object.js";

export default {
  async fetch(request, env, ctx) {
    const cfg = runtimeConfig(env);
    try {
      return await handleRequest(request, env, ctx, cfg);
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
