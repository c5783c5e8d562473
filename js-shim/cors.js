// CORS: the worker answers preflights itself and sets the allow headers on every response, from the
// ALLOWED_ORIGINS var ("*", or a comma-separated list of exact origins, echoed back with Vary: Origin).
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const PREFLIGHT_MAX_AGE_S = "86400";
const EXPOSED = "cache-status, cache-age, age, x-cache-tier, x-worker-version, x-worker-environment, etag, " +
  "x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after";

function allowedOrigin(requestOrigin, cfg) {
  if (!requestOrigin) return null;
  if (cfg.allowedOrigins.includes("*")) return "*";
  return cfg.allowedOrigins.includes(requestOrigin) ? requestOrigin : null;
}

export function applyCors(request, headers, cfg) {
  const allowed = allowedOrigin(request.headers.get("origin"), cfg);
  if (!cfg.allowedOrigins.includes("*")) headers.append("vary", "Origin");
  if (!allowed) return;
  headers.set("access-control-allow-origin", allowed);
  headers.set("access-control-expose-headers", EXPOSED);
}

// applyCors for a plain object of header fields (lower-case names, one value each) that is about to
// become a response's headers: the hit path builds its headers this way, since every Headers.set() is
// a call into the runtime.
export function applyCorsToFields(request, fields, cfg) {
  const allowed = allowedOrigin(request.headers.get("origin"), cfg);
  if (!cfg.allowedOrigins.includes("*")) fields.vary = fields.vary ? `${fields.vary}, Origin` : "Origin";
  if (!allowed) return;
  fields["access-control-allow-origin"] = allowed;
  fields["access-control-expose-headers"] = EXPOSED;
}

export function preflightResponse(request, cfg, stamp) {
  const headers = new Headers();
  const allowed = allowedOrigin(request.headers.get("origin"), cfg);
  if (!cfg.allowedOrigins.includes("*")) headers.set("vary", "Origin");
  if (allowed) {
    headers.set("access-control-allow-origin", allowed);
    headers.set("access-control-allow-methods", ALLOWED_METHODS);
    const requested = request.headers.get("access-control-request-headers");
    headers.set("access-control-allow-headers", requested || "authorization, content-type");
    headers.set("access-control-max-age", PREFLIGHT_MAX_AGE_S);
  }
  stamp(headers);
  return new Response(null, { status: 204, headers });
}
