// The rules' upstream APIs across the ABI (upstreams.js asks): the quota windows a call must fit
// (src/upstream_quota.h), what to do after the quota counter answered, and whether an upstream's answer is an
// error (src/upstream_response.h).
import * as ABI from "../generated/abi_layout.js";

export const upstreamCodec = {
  // The windows a call to upstream `origin` must fit, for `purpose` (ABI.UpstreamPurpose) at nowMs
  // (src/upstream_quota.h): [{kind, limit, cap, startMs, resetAtMs}]; empty when the upstream has no quota.
  upstreamQuotaAsk(origin, purpose, nowMs) {
    this.refreshViews();
    const s = this.scratch;
    this.putU32(s, ABI.kQaOrigin, origin);
    this.putU32(s, ABI.kQaPurpose, purpose);
    this.putF64(s, ABI.kQaNowMs, nowMs);
    const count = this.exports.ec_upstream_quota_ask();
    const windows = [];
    for (let i = 0; i < count; i++) {
      const at = this.result + ABI.kQaWindows + i * ABI.kQaWindowBytes;
      windows.push({
        kind: this.getU32(at, ABI.kQaWindowKind), limit: this.getU32(at, ABI.kQaWindowLimit), cap: this.getU32(at, ABI.kQaWindowCap),
        startMs: this.f64[(at + ABI.kQaWindowStartMs) >>> 3], resetAtMs: this.f64[(at + ABI.kQaWindowResetAtMs) >>> 3],
      });
    }
    return windows;
  },

  // What to do after the quota counter's answer: {call: ABI.UpstreamCall, reason, status, retryAfterS}.
  // facts: {origin, purpose, count: ABI.QuotaCount, bindingKind, bindingCount, staleFreshness (0: none), nowMs, resetAtMs}.
  upstreamQuotaVerdict(facts) {
    this.refreshViews();
    const s = this.scratch;
    this.putU32(s, ABI.kQvOrigin, facts.origin);
    this.putU32(s, ABI.kQvPurpose, facts.purpose);
    this.putU32(s, ABI.kQvCount, facts.count);
    this.putU32(s, ABI.kQvBindingKind, facts.bindingKind ?? 0);
    this.putU32(s, ABI.kQvBindingCount, facts.bindingCount ?? 0);
    this.putU32(s, ABI.kQvStale, facts.staleFreshness || 0);
    this.putF64(s, ABI.kQvNowMs, facts.nowMs);
    this.putF64(s, ABI.kQvResetAtMs, facts.resetAtMs || 0);
    const call = this.exports.ec_upstream_quota_verdict();
    const r = this.result;
    return {
      call, reason: this.getU32(r, ABI.kQvResReason), status: this.getU32(r, ABI.kQvResStatus), retryAfterS: this.getU32(r, ABI.kQvResRetryAfterS),
    };
  },

  // Whether an upstream's answer is an error (src/upstream_response.h): {verdict: ABI.UpstreamResponse, reason, marker}.
  // The body is copied into the module only when the origin lists errorBodyKeys and the status is 2xx.
  upstreamResponseError(origin, status, body) {
    const inspect = status >= 200 && status <= 299 && body && body.length > 0 && (this.upstreams[origin]?.errorBodyKeys?.length ?? 0) > 0;
    const ptr = inspect ? this.exports.ec_alloc(body.length) : 0;
    try {
      this.refreshViews();
      if (inspect) this.u8.set(body, ptr);
      this.putU32(this.scratch, ABI.kUrOrigin, origin);
      this.putU32(this.scratch, ABI.kUrStatus, status);
      const verdict = this.exports.ec_upstream_response_error(ptr, inspect ? body.length : 0);
      const r = this.result;
      return { verdict, reason: this.getU32(r, ABI.kUrResReason), marker: this.getU32(r, ABI.kUrResMarker) };
    } finally {
      if (inspect) this.exports.ec_free(ptr);
    }
  },
};
