// Response assembly: the headers every response carries, JSON errors, and the cache headers of
// cacheable routes. No decisions are made here; values come from the core's decision and evaluation.
export const CACHE_STATUS = Object.freeze({ HIT: "HIT", MISS: "MISS", STALE: "STALE", BYPASS: "BYPASS" });

// Headers of an origin response that are not stored or forwarded: hop-by-hop (RFC 9110 §7.6.1),
// encodings the runtime has already undone, and CORS headers (the worker answers CORS itself).
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "content-encoding", "content-length",
]);
export function isForwardableResponseHeader(name) {
  return !HOP_BY_HOP.has(name) && !name.startsWith("access-control-") && !name.startsWith("cf-");
}

// Response headers kept with a stored entry: what describes the representation, nothing per-request.
const STORED_HEADERS = new Set([
  "content-type", "content-language", "content-disposition", "etag", "last-modified", "cache-control",
  "expires", "link", "vary", "x-content-type-options",
]);
export function storedHeaderPairs(headers) {
  const out = [];
  for (const [name, value] of headers) if (STORED_HEADERS.has(name)) out.push([name, value]);
  return out;
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
  503: "service_unavailable", 504: "gateway_timeout",
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
