// Auth before the cache (AUTH_MODE). A cache in front of an authenticated API must never be a way
// around the origin's access control:
//   none   — public data: credentials are forwarded, not checked.
//   jwt    — `Authorization: Bearer <JWT>` is verified here (HS256 with the JWT_SECRET secret via
//            WebCrypto; header and claims checked by the core). Bad or missing → 401, and neither the
//            cache nor the origin is touched.
//   origin — the origin stays the judge. A token this isolate has not seen accepted recently goes to
//            the origin (never served from the cache, never coalesced with other clients); a 2xx marks
//            the token's hash accepted for AUTH_CACHE_TTL seconds for that rule, a 401/403 marks it
//            refused for a short time. Cache hits are served only to accepted tokens.
// Tokens are never stored or logged: only SHA-256 hashes of them, held in this isolate's memory.
import { makeRoomIn } from "./bounded_map.js";
import { checkJwtClaims } from "./jwt_bridge.js";
import { verifyHs256 } from "./jwt_verify.js";
import { sha256Hex } from "./sha256_hex.js";

const REFUSED_TTL_MS = 30_000;
const MAX_REMEMBERED = 10_000;

// Per-isolate verdicts of the origin, by hash(token) + rule: {accepted: bool, status, until}.
const originVerdicts = new Map();

function bearerToken(request) {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const m = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(header);
  return m ? m[1] : "";
}

export function authExempt(cfg, path) {
  return cfg.authExemptPrefixes.some((p) => path === p.replace(/\/$/, "") || path.startsWith(p));
}

// What AUTH_MODE=none grants every request. Frozen: it is shared by all of them.
export const PUBLIC_ACCESS = Object.freeze({ ok: true, identity: Object.freeze({}) });

// Returns {ok: true, identity: {sub?, tokenHash?}, originCheck?: {verdictKey}} or
// {ok: false, status, message}. With AUTH_MODE=none the answer is always PUBLIC_ACCESS, which callers
// on the hot path use directly rather than awaiting this.
export async function authenticate(rc, decision) {
  const mode = rc.cfg.authMode;
  if (mode === "none") return PUBLIC_ACCESS;
  const path = decision.originTarget ? decision.originTarget.split("?")[0] : new URL(rc.request.url).pathname;
  if (authExempt(rc.cfg, path)) return { ok: true, identity: {} };

  if (mode === "jwt") {
    const secret = rc.env.JWT_SECRET;
    if (!secret) return { ok: false, status: 503, message: "AUTH_MODE=jwt but the JWT_SECRET secret is not set" };
    const token = bearerToken(rc.request);
    if (token === null) return { ok: false, status: 401, message: "missing bearer token" };
    if (token === "") return { ok: false, status: 401, message: "malformed Authorization header" };
    const claims = checkJwtClaims(rc.core, token, {
      nowS: Math.floor(rc.now / 1000),
      leewayS: rc.cfg.jwtLeewayS,
      issuer: rc.env.JWT_ISSUER || "",
      audience: rc.env.JWT_AUDIENCE || "",
    });
    if (!claims.ok) return { ok: false, status: 401, message: `invalid token (${claims.reason})` };
    const verified = await verifyHs256(token, secret, claims);
    if (!verified.ok) return { ok: false, status: 401, message: `invalid token (${verified.reason})` };
    // The rate limiter counts a verified subject across tokens; only a token without one is hashed.
    const sub = claims.claims.sub || undefined;
    return { ok: true, identity: sub ? { sub } : { tokenHash: await sha256Hex(token) } };
  }

  if (mode === "origin") {
    const credential = rc.request.headers.get("authorization") || "";
    const tokenHash = await sha256Hex(credential ? `auth:${credential}` : "anonymous");
    // Acceptance is per rule: a token accepted for one kind of data says nothing about another.
    const verdictKey = `${tokenHash}:${decision.ruleIndex}`;
    const verdict = originVerdicts.get(verdictKey);
    // Anonymous callers share a verdict (the origin judges "no credentials" once per rule) but not an
    // identity: the rate limiter tells them apart by address.
    const identity = credential ? { tokenHash } : {};
    if (verdict && verdict.until > rc.now) {
      if (!verdict.accepted) return { ok: false, status: verdict.status, message: "credentials recently refused by the origin" };
      return { ok: true, identity };
    }
    if (verdict) originVerdicts.delete(verdictKey);
    return { ok: true, identity, originCheck: { verdictKey } };
  }

  return { ok: false, status: 503, message: `unknown AUTH_MODE "${mode}"` };
}

// Records the origin's answer to a request whose credentials it had to judge.
export function recordOriginVerdict(rc, originCheck, status) {
  if (!originCheck) return;
  // A forgotten token is simply asked about again.
  makeRoomIn(originVerdicts, MAX_REMEMBERED);
  if (status === 401 || status === 403) {
    originVerdicts.set(originCheck.verdictKey, { accepted: false, status, until: rc.now + REFUSED_TTL_MS });
  } else if (status < 500) {
    originVerdicts.set(originCheck.verdictKey, { accepted: true, status, until: rc.now + rc.cfg.authCacheTtlS * 1000 });
  }
}

export function _resetAuthForTests() {
  originVerdicts.clear();
}
