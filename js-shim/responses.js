// Response assembly: the headers every response carries, JSON errors, and the cache headers of
// cacheable routes. No decisions are made here; values come from the core's decision and evaluation.
export const CACHE_STATUS = Object.freeze({ HIT: "HIT", MISS: "MISS", STALE: "STALE", BYPASS: "BYPASS" });

// The cache-status header. By default the literal HIT | MISS | STALE | BYPASS the frontends compare. With
// CACHE_STATUS_FORMAT=rfc9211, the standard structured form (RFC 9211 §2) naming this cache:
//   HIT    edge-cache; hit; ttl=<seconds of freshness left>
//   STALE  edge-cache; hit; ttl=<0 or less>; fwd=stale        (served stale; a refresh may be under way)
//   MISS   edge-cache; fwd=uri-miss; fwd-status=<status>[; stored]
//   BYPASS edge-cache; fwd=bypass[; fwd-status=<status>]
// evaluation: the core's evaluation of the entry served (hits); result: the origin result (misses).
export const CACHE_STATUS_NAME = "edge-cache";
export function cacheStatusValue(cfg, status, evaluation, result) {
  if (cfg.cacheStatusFormat !== "rfc9211") return status;
  switch (status) {
    case CACHE_STATUS.HIT:
      return `${CACHE_STATUS_NAME}; hit; ttl=${evaluation ? evaluation.remainingS : 0}`;
    case CACHE_STATUS.STALE:
      return `${CACHE_STATUS_NAME}; hit; ttl=${evaluation ? -evaluation.staleS : 0}; fwd=stale`;
    case CACHE_STATUS.MISS: {
      const fwdStatus = result?.status ? `; fwd-status=${result.status}` : "";
      return `${CACHE_STATUS_NAME}; fwd=uri-miss${fwdStatus}${result?.verdict?.storable ? "; stored" : ""}`;
    }
    default:
      return `${CACHE_STATUS_NAME}; fwd=bypass${result?.status ? `; fwd-status=${result.status}` : ""}`;
  }
}

export function stampWorkerHeaders(headers, cfg) {
  headers.set("x-worker-version", cfg.version);
  headers.set("x-worker-environment", cfg.environment);
}

export function jsonResponse(body, status, cfg, extraHeaders) {
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  stampWorkerHeaders(headers, cfg);
  return new Response(JSON.stringify(body), { status, headers });
}

const ERROR_NAMES = {
  400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
  413: "payload_too_large", 414: "uri_too_long", 415: "unsupported_media_type", 429: "too_many_requests",
  431: "request_header_fields_too_large", 500: "internal_error", 502: "bad_gateway",
  503: "service_unavailable", 504: "gateway_timeout", 508: "loop_detected",
};

// Errors are JSON {error, message, status}; never a stack trace, never a secret.
export function jsonError(status, message, cfg, extraHeaders) {
  return jsonResponse({ error: ERROR_NAMES[status] || "error", message, status }, status, cfg, extraHeaders);
}

export function logEvent(level, event, fields = {}) {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
