// Auth before the cache (AUTH_MODE). A cache in front of an authenticated API must never be a way
// around the origin's access control:
//   none   — public data: credentials are forwarded, not checked. (Responses to credentialed requests are
//            shared only as RFC 9111 §3.5 allows: the core's store verdict.)
//   jwt    — `Authorization: Bearer <JWT>` is verified here (HS256 with the JWT_SECRET secret via
//            WebCrypto; header and claims checked by the core). Bad or missing → 401, and neither the
//            cache nor the origin is touched.
//   origin — the origin stays the judge. A credential (credentials.js: headers, cookies, query parameters,
//            as the rules name them) this isolate has not seen accepted for a scope goes to the origin —
//            never served from the cache, never coalesced with other clients. Only a 2xx or 304 accepts it, for
//            AUTH_CACHE_TTL seconds, for that scope: the rule, or for a path no rule matches, that key alone
//            (the core's AuthScopeKey flag). A 401/403 refuses that credential only, for a short time; a
//            refusal of "no credentials" is never remembered, so one anonymous client cannot lock out the others.
//            Requests without credentials are judged the same way: a route the origin refuses to anonymous
//            clients is never served to them from the cache.
// Credentials are never stored or logged: only SHA-256 hashes of them, held in this isolate's memory.
// Which paths need no credentials (AUTH_EXEMPT_PATHS) is the core's decision (the AuthExempt flag).
import { makeRoomIn } from "./bounded_map.js";
import { credentialMaterial } from "./credentials.js";
import * as ABI from "./generated/abi_layout.js";
import { checkJwtClaims } from "./jwt_bridge.js";
import { verifyHs256 } from "./jwt_verify.js";
import { sha256Hex } from "./sha256_hex.js";
import { isolate } from "./isolate_context.js";

const REFUSED_TTL_MS = 30_000;
const MAX_REMEMBERED = 10_000;
export const AUTH_MODES = Object.freeze(["none", "jwt", "origin"]);

// Per-isolate verdicts of the origin (isolate.originVerdicts), by hash(credential) + scope:
// {accepted: bool, status, until}.

function bearerToken(request) {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const m = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(header);
  return m ? m[1] : "";
}

// What AUTH_MODE=none grants every request. Frozen: it is shared by all of them.
export const PUBLIC_ACCESS = Object.freeze({ ok: true, identity: Object.freeze({}) });

// The scope an origin verdict covers: the rule, or the key when no rule matched (the core's AuthScopeKey flag);
// null when the request has neither (a pass-through no rule matched): nothing is remembered for it.
function verdictScope(decision) {
  if ((decision.flags & ABI.DecisionFlag.AuthScopeKey) === 0) return `rule:${decision.ruleIndex}`;
  return decision.key ? `key:${decision.key}` : null;
}

// Returns {ok: true, identity: {sub?, tokenHash?}, originCheck?: {verdictKey, anonymous}} or
// {ok: false, status, message}. identity names the client for the rate limiter only once a credential is
// verified (a JWT, or a credential the origin accepted): until then the client is its address, so junk
// credentials cannot mint identities. With AUTH_MODE=none the answer is always PUBLIC_ACCESS, which callers
// on the hot path use directly rather than awaiting this.
export async function authenticate(rc, decision) {
  const mode = rc.cfg.authMode;
  if (mode === "none") return PUBLIC_ACCESS;
  if ((decision.flags & ABI.DecisionFlag.AuthExempt) !== 0) return { ok: true, identity: {} };

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
    const material = (decision.flags & ABI.DecisionFlag.Credentials) !== 0
      ? credentialMaterial(rc.request, rc.url, rc.core.credentials) : "";
    const credentialHash = material ? await sha256Hex(`credential:${material}`) : "anonymous";
    const scope = verdictScope(decision);
    if (scope === null) return { ok: true, identity: {} };
    const verdictKey = `${credentialHash}|${scope}`;
    const verdict = isolate.originVerdicts.get(verdictKey);
    if (verdict && verdict.until > rc.now) {
      if (!verdict.accepted) return { ok: false, status: verdict.status, message: "credentials recently refused by the origin" };
      return { ok: true, identity: material ? { tokenHash: credentialHash } : {} };
    }
    if (verdict) isolate.originVerdicts.delete(verdictKey);
    return { ok: true, identity: {}, originCheck: { verdictKey, anonymous: !material } };
  }

  return { ok: false, status: 503, message: `AUTH_MODE ${JSON.stringify(mode)} is not one of ${AUTH_MODES.join(", ")}` };
}

// Records the origin's answer to a request whose credentials it had to judge: a 2xx or 304 accepts, a 401 or
// 403 refuses — a credential, never "no credentials" (that would answer other clients). Anything else (404,
// 5xx, a redirect) says nothing about the credential.
export function recordOriginVerdict(rc, originCheck, status) {
  if (!originCheck) return;
  // A forgotten credential is simply asked about again.
  makeRoomIn(isolate.originVerdicts, MAX_REMEMBERED);
  if ((status === 401 || status === 403) && !originCheck.anonymous) {
    isolate.originVerdicts.set(originCheck.verdictKey, { accepted: false, status, until: rc.now + REFUSED_TTL_MS });
  } else if ((status >= 200 && status < 300) || status === 304) {
    isolate.originVerdicts.set(originCheck.verdictKey, { accepted: true, status, until: rc.now + rc.cfg.authCacheTtlS * 1000 });
  }
}
