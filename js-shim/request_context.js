// One request's context on the serving path: the request, its env and config, the core instance, the time
// it arrived, and the worker's standard answers (stamped headers, JSON errors, the 431 check) — plus the
// debug descriptions of a decision. Nothing here decides anything.
// The generated ABI constants, not core_bridge.js (which loads the Wasm module): this file loads in plain Node.
import * as ABI from "./generated/abi_layout.js";
import { applyCors } from "./cors.js";
import { metrics } from "./metrics.js";
import { forwardedHeaderBytes } from "./origin_client.js";
import { jsonError, logEvent, stampWorkerHeaders } from "./responses.js";

// The request-target exactly as received (origin-form), so the core sees what the client sent —
// including dot segments and odd encodings it must reject — rather than a URL parser's repair of it.
export function rawTarget(requestUrl) {
  const pathStart = requestUrl.indexOf("/", requestUrl.indexOf("//") + 2);
  if (pathStart < 0) return "/";
  const hash = requestUrl.indexOf("#", pathStart);
  return hash < 0 ? requestUrl.slice(pathStart) : requestUrl.slice(pathStart, hash);
}

export class RequestContext {
  constructor(request, env, ctx, cfg, core, now, url = request.url) {
    this.request = request;
    // request.url is a getter that builds a new string on every read: read once.
    this.url = url;
    this.env = env;
    this.ctx = ctx;
    this.cfg = cfg;
    this.core = core;
    this.now = now;
    this.isHead = request.method === "HEAD";
  }
  log(level, event, fields) {
    logEvent(level, event, fields);
  }
  stamp(headers) {
    stampWorkerHeaders(headers, this.cfg);
    applyCors(this.request, headers, this.cfg);
  }
  error(status, message, extra) {
    const res = jsonError(status, message, this.cfg, extra);
    applyCors(this.request, res.headers, this.cfg);
    return res;
  }
  // A request that reaches the origin carries every header the client sent, so it is held to the rules'
  // maxHeaderBytes here, before any origin fetch. A cache hit reads only the headers the policy uses
  // (core/request_codec.js), and does not walk the rest: a Headers iteration costs more than the decision.
  headersTooLargeForOrigin() {
    if (this.forwardedBytes === undefined) this.forwardedBytes = forwardedHeaderBytes(this.request);
    return this.forwardedBytes > this.core.maxHeaderBytes;
  }
  rejectHeadersTooLarge() {
    metrics.rejected();
    const reason = "request:headers-too-large";
    this.log("warn", "request_rejected", { reason, status: 431, method: this.request.method, headerBytes: this.forwardedBytes });
    return this.error(431, `request rejected: ${reason}`);
  }
}

export function debugReason(rc, decision) {
  const report = rc.core.report;
  const parts = [report.reasons[decision.reason] || String(decision.reason)];
  if (decision.classIndex !== ABI.kNone) parts.push(`class=${report.classes[decision.classIndex]}`);
  if (decision.ruleIndex !== ABI.kNone) parts.push(`rule=${report.ruleNames[decision.ruleIndex]}`);
  if (decision.ttlS) parts.push(`ttl=${decision.ttlS}`);
  if (decision.marketSession) parts.push(`market=${report.sessions[decision.marketSession]}`);
  return parts.join("; ");
}

// A key as a header value: keys of rules with `vary` hold "\n" separators and the header values, which
// may be any text; a header value must be printable Latin-1. Everything else is percent-escaped (UTF-8).
export function keyHeaderValue(key) {
  return key.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
}

export function debugHeaders(rc, headers, decision) {
  if (!rc.cfg.debugHeaders) return;
  headers.set("x-cache-reason", debugReason(rc, decision));
  if (decision.key) headers.set("x-cache-key", keyHeaderValue(decision.key));
}
