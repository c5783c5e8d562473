// js-shim/rate_limiter.js in plain Node, with a fake RATE_LIMITER namespace: who a client is (and that it
// is always a hash), which bucket a request counts in, exempt paths, RATE_LIMIT, the isolate's memory of
// denials, and failing open. The object itself and the wiring run in workerd: tests/integration/rate_limit.test.mjs.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as ABI from "../../js-shim/generated/abi_layout.js";
import { jsonError } from "../../js-shim/responses.js";
import {
  checkRateLimit, clientIdentity, limiterObjectName, rateLimiterStats, withRateLimit,
} from "../../js-shim/rate_limiter.js";
import { resetIsolateForTests } from "../../js-shim/isolate_context.js";

const sha = (text) => createHash("sha256").update(text).digest("hex").slice(0, 32);
const REPORT = {
  classes: ["LONG", "FAST", "NONE"],
  rateLimits: {
    enabled: true,
    default: { perMinute: 5, perDay: 100 },
    bypass: { perMinute: 2, perDay: 10 },
    classes: { FAST: { perMinute: 3 }, NONE: {} },
    exempt: { paths: ["/health", "/v3/reference/tickers/types"], prefixes: ["/static"] },
  },
};
const T0 = Date.UTC(2030, 0, 2, 10, 15, 30);

// A namespace whose objects count per identity|bucket in one minute window, and record every call.
function fakeNamespace({ fail } = {}) {
  const calls = [];
  const counts = new Map();
  return {
    calls,
    idFromName: (name) => ({ name }),
    get: (id) => ({
      async hit(identity, bucket, limits, nowMs) {
        calls.push({ object: id.name, identity, bucket, limits, nowMs });
        if (fail === "throw") throw new Error("object exploded");
        if (fail === "slow") await new Promise((r) => setTimeout(r, 1000));
        const key = `${identity}|${bucket}`;
        const n = counts.get(key) || 0;
        const resetAtMs = Math.floor(nowMs / 60_000) * 60_000 + 60_000;
        const resetS = Math.ceil((resetAtMs - nowMs) / 1000);
        if (n >= limits.perMinute) return { allowed: false, window: "minute", limit: limits.perMinute, remaining: 0, resetS, resetAtMs, retryAfterS: resetS };
        counts.set(key, n + 1);
        return { allowed: true, window: "minute", limit: limits.perMinute, remaining: limits.perMinute - n - 1, resetS, resetAtMs, retryAfterS: 0 };
      },
    }),
  };
}

const cfg = { version: "test", environment: "test", debugHeaders: true };
function context({ env = {}, path = "/v3/reference/tickers/AAPL", headers = {}, now = T0, report = REPORT } = {}) {
  const request = new Request(`https://edge.example${path}`, { headers });
  return {
    request, env, cfg, now, core: { report }, ctx: { waitUntil() {} },
    log() {},
    error: (status, message, extra) => jsonError(status, message, cfg, extra),
  };
}
// The core picks the bucket (kDecRateBucket): default, bypass, a class's, or none (exempt paths); these
// decisions carry the bucket the core would choose.
function decision({ classIndex = 0, flags = 0, rateBucket } = {}) {
  if (rateBucket === undefined) {
    const listed = REPORT.rateLimits.classes[REPORT.classes[classIndex]];
    rateBucket = flags & ABI.DecisionFlag.BypassParam ? ABI.kRateBucketBypass
      : listed ? (listed.perMinute ? ABI.kRateBucketFirstClass + classIndex : ABI.kNone) : ABI.kRateBucketDefault;
  }
  return { classIndex, flags, rateBucket };
}

beforeEach(() => resetIsolateForTests());

test("clientIdentity: a verified JWT subject, then a verified token, then the IP, then anonymous — always hashed", async () => {
  const req = (headers) => new Request("https://edge.example/", { headers });
  const cases = [
    { what: "sub wins", request: req({ authorization: "Bearer t1", "cf-connecting-ip": "1.2.3.4" }), auth: { sub: "user-1", tokenHash: "ab".repeat(32) }, want: `sub:${sha("sub:user-1")}` },
    { what: "token hash from the auth step", request: req({ authorization: "Bearer t1" }), auth: { tokenHash: "cd".repeat(32) }, want: `token:${"cd".repeat(16)}` },
    // An Authorization nobody verified does not name the client (issue #14, F6): its address does.
    { what: "unverified Authorization", request: req({ authorization: "Bearer t1", "cf-connecting-ip": "1.2.3.4" }), auth: {}, want: `ip:${sha("ip:1.2.3.4")}` },
    { what: "IP", request: req({ "cf-connecting-ip": "1.2.3.4" }), auth: undefined, want: `ip:${sha("ip:1.2.3.4")}` },
    { what: "nothing", request: req({}), auth: undefined, want: "anonymous" },
  ];
  for (const c of cases) {
    const identity = await clientIdentity(c.request, c.auth);
    assert.equal(identity, c.want, c.what);
    assert.ok(!/t1|1\.2\.3\.4|user-1/.test(identity), `${c.what}: nothing raw`);
  }
  // Spellings of one address are one client when the core canonicalises them.
  const canonical = (ip) => (ip.toLowerCase() === "2001:db8:0:0::1" ? "2001:db8::1" : ip);
  assert.equal(await clientIdentity(req({ "cf-connecting-ip": "2001:DB8:0:0::1" }), undefined, canonical), `ip:${sha("ip:2001:db8::1")}`);
  // One user with two tokens is one client.
  assert.equal(await clientIdentity(req({ authorization: "Bearer a" }), { sub: "u" }), await clientIdentity(req({ authorization: "Bearer b" }), { sub: "u" }));
  // The object: one of RATE_LIMITER_SHARDS (default 16) picked by the identity's hash, or one per identity (0).
  assert.equal(limiterObjectName("ip:abc"), "rl:ip:abc");
  assert.equal(limiterObjectName("ip:0000001f9a", 16), "rl-shard:15");
  assert.equal(limiterObjectName("token:ffffffff00", 16), `rl-shard:${0xffffffff % 16}`);
  assert.equal(limiterObjectName("anonymous", 16), "rl-shard:0");
});

test("the bucket is the core's: bypass, a limited class, or default; the object is named after the client", async () => {
  const ns = fakeNamespace();
  const env = { RATE_LIMITER: ns, RATE_LIMITER_SHARDS: "0" };
  const cases = [
    { what: "default class", d: decision({ classIndex: 0 }), bucket: "default", limit: "5" },
    { what: "class with limits", d: decision({ classIndex: 1 }), bucket: "FAST", limit: "3" },
    { what: "no class (other methods)", d: decision({ classIndex: ABI.kNone }), bucket: "default", limit: "5" },
    { what: "nocache", d: decision({ classIndex: 1, flags: ABI.DecisionFlag.BypassParam }), bucket: "bypass", limit: "2" },
  ];
  for (const c of cases) {
    const r = await checkRateLimit(context({ env }), c.d, "ip:client");
    assert.equal(r.limited, false, c.what);
    assert.equal(r.headers["x-ratelimit-limit"], c.limit, c.what);
    assert.equal(r.headers["x-ratelimit-bucket"], `${c.bucket}; window=minute`, c.what);
    assert.equal(ns.calls.at(-1).bucket, c.bucket, c.what);
    assert.equal(ns.calls.at(-1).object, "rl:ip:client");
    assert.equal(ns.calls.at(-1).nowMs, T0, "the request's clock is passed");
  }
  // A class listed with no window is not limited at all: no call, no headers.
  const before = ns.calls.length;
  const none = await checkRateLimit(context({ env }), decision({ classIndex: 2 }), "ip:client");
  assert.deepEqual(none, { limited: false, headers: {} });
  assert.equal(ns.calls.length, before);
});

test("a decision without a bucket (an exempt path: the core's request_policy_test covers which) is not limited", async () => {
  const ns = fakeNamespace();
  for (let i = 0; i < 3; i++) {
    const r = await checkRateLimit(context({ env: { RATE_LIMITER: ns } }), decision({ rateBucket: ABI.kNone }), "ip:ex");
    assert.deepEqual(r, { limited: false, headers: {} });
  }
  assert.equal(ns.calls.length, 0);
  assert.equal(rateLimiterStats().exempt, 3);
});

test("RATE_LIMIT=off, or rules that disable or lack the section, limit nothing", async () => {
  const ns = fakeNamespace();
  const off = await checkRateLimit(context({ env: { RATE_LIMITER: ns, RATE_LIMIT: "off" } }), decision(), "ip:x");
  assert.deepEqual(off, { limited: false, headers: {} });
  const disabled = { ...REPORT, rateLimits: { ...REPORT.rateLimits, enabled: false } };
  assert.deepEqual(await checkRateLimit(context({ env: { RATE_LIMITER: ns }, report: disabled }), decision(), "ip:x"), { limited: false, headers: {} });
  assert.deepEqual(await checkRateLimit(context({ env: { RATE_LIMITER: ns }, report: { classes: [] } }), decision(), "ip:x"), { limited: false, headers: {} });
  assert.equal(ns.calls.length, 0);
  // Anything but on/off keeps it on.
  const typo = await checkRateLimit(context({ env: { RATE_LIMITER: ns, RATE_LIMIT: "of" } }), decision(), "ip:x");
  assert.equal(typo.headers["x-ratelimit-limit"], "5");
});

test("over the limit: a 429 JSON with Retry-After; later denials in the window come from memory, none after it", async () => {
  const ns = fakeNamespace();
  const env = { RATE_LIMITER: ns };
  for (let i = 0; i < 5; i++) assert.equal((await checkRateLimit(context({ env }), decision(), "ip:busy")).limited, false);
  const denied = await checkRateLimit(context({ env, now: T0 + 1000 }), decision(), "ip:busy");
  assert.equal(denied.limited, true);
  assert.equal(denied.response.status, 429);
  assert.equal(denied.response.headers.get("retry-after"), "29");
  assert.equal(denied.response.headers.get("x-ratelimit-remaining"), "0");
  assert.equal(denied.response.headers.get("x-ratelimit-reset"), "29");
  const body = await denied.response.json();
  assert.deepEqual(body, { error: "too_many_requests", message: "rate limit exceeded: at most 5 requests per minute for this client; retry in 29 s", status: 429 });
  const calls = ns.calls.length;
  const again = await checkRateLimit(context({ env, now: T0 + 20_000 }), decision(), "ip:busy");
  assert.equal(again.limited, true);
  assert.equal(again.response.headers.get("retry-after"), "10", "counted down from the remembered reset");
  assert.equal(ns.calls.length, calls, "answered without a call");
  // Another bucket of the same client is not affected.
  assert.equal((await checkRateLimit(context({ env, now: T0 + 20_000 }), decision({ classIndex: 1 }), "ip:busy")).limited, false);
  // Once the window has turned, the object is asked again.
  await checkRateLimit(context({ env, now: T0 + 31_000 }), decision(), "ip:busy");
  assert.equal(ns.calls.at(-1).nowMs, T0 + 31_000);
  assert.equal(rateLimiterStats().limitedLocally, 1);
});

test("withRateLimit: serves and adds the headers, or answers 429 without serving", async () => {
  const ns = fakeNamespace();
  let served = 0;
  const serve = async () => {
    served++;
    return new Response("ok", { headers: { "content-type": "text/plain" } });
  };
  const rc = () => context({ env: { RATE_LIMITER: ns }, headers: { "cf-connecting-ip": "9.9.9.9" } });
  const first = await withRateLimit(rc(), decision({ classIndex: 1 }), serve);
  assert.equal(await first.text(), "ok");
  assert.equal(first.headers.get("x-ratelimit-remaining"), "2");
  for (let i = 0; i < 2; i++) await withRateLimit(rc(), decision({ classIndex: 1 }), serve);
  const limited = await withRateLimit(rc(), decision({ classIndex: 1 }), serve);
  assert.equal(limited.status, 429);
  assert.equal(served, 3, "the limited request was not served");
  assert.equal(ns.calls[0].identity, `ip:${sha("ip:9.9.9.9")}`);
  // A response with immutable headers (as fetch returns them) is copied.
  const immutable = await withRateLimit(rc(), decision(), async () => {
    const res = new Response("x");
    Object.defineProperty(res, "headers", { value: Object.freeze({ set() { throw new TypeError("immutable"); } }) });
    return res;
  });
  assert.equal(immutable.headers.get("x-ratelimit-limit"), "5");
});

for (const fail of ["missing", "throw", "slow"]) {
  test(`fail open (${fail}): served without a verdict, counted, logged once a minute`, async () => {
    const ns = fail === "missing" ? undefined : fakeNamespace({ fail });
    const lines = [];
    const original = console.error;
    console.error = (line) => lines.push(line);
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const r = await checkRateLimit(context({ env: { RATE_LIMITER: ns } }), decision(), "ip:f");
        assert.deepEqual(r, { limited: false, headers: {} });
        assert.ok(Date.now() - started < 800, "the 300 ms timeout holds");
      }
    } finally {
      console.error = original;
    }
    assert.equal(rateLimiterStats().failedOpen, 3);
    const failures = lines.filter((l) => l.includes("rate_limiter_failed_open"));
    assert.equal(failures.length, 1);
    assert.equal(JSON.parse(failures[0]).reason, { missing: "binding-missing", throw: "error", slow: "timeout" }[fail]);
  });
}

// A namespace whose objects count like RateLimiterDurableObject (grants up to `want`, never past the limit),
// answer after `delayMs`, and record every call's `want`.
function slicingNamespace({ delayMs = 10 } = {}) {
  const calls = [];
  const counts = new Map();
  return {
    calls, counts,
    idFromName: (name) => ({ name }),
    get: () => ({
      async hit(identity, bucket, limits, nowMs, want) {
        calls.push({ identity, bucket, want });
        await new Promise((r) => setTimeout(r, delayMs));
        const key = `${identity}|${bucket}`;
        const n = counts.get(key) || 0;
        const resetAtMs = Math.floor(nowMs / 60_000) * 60_000 + 60_000;
        const resetS = Math.ceil((resetAtMs - nowMs) / 1000);
        if (n >= limits.perMinute) return { allowed: false, window: "minute", limit: limits.perMinute, remaining: 0, resetS, resetAtMs, retryAfterS: resetS };
        const granted = Math.min(want, limits.perMinute - n);
        counts.set(key, n + granted);
        return { allowed: true, window: "minute", limit: limits.perMinute, remaining: limits.perMinute - n - granted, resetS, resetAtMs, retryAfterS: 0, granted, leaseUntilMs: resetAtMs };
      },
    }),
  };
}
const SLICED = { ...REPORT, rateLimits: { ...REPORT.rateLimits, default: { perMinute: 100, perDay: 10000 } } };

test("concurrent requests of one client share one call at a time; the grants are spent, none lost", async () => {
  const ns = slicingNamespace();
  const env = { RATE_LIMITER: ns };
  // 12 at once, slices of 5 (100/minute): the first call takes a slice, the 11 queued behind it share it
  // and the next call, which asks for what is still queued.
  const answers = await Promise.all(Array.from({ length: 12 }, () => checkRateLimit(context({ env, report: SLICED }), decision(), "ip:burst")));
  assert.ok(answers.every((a) => a.limited === false));
  assert.deepEqual(ns.calls.map((c) => c.want), [5, 7], "one call at a time, the second sized to the queue");
  assert.equal(ns.counts.get("ip:burst|default"), 12, "every request granted was counted once, none counted unspent");
  const remaining = answers.map((a) => Number(a.headers["x-ratelimit-remaining"])).sort((a, b) => b - a);
  assert.deepEqual(remaining, Array.from({ length: 12 }, (_, i) => 99 - i), "Remaining counts down without gaps");
  // 300 at once against 100: exactly the limit served, the rest refused (one isolate: no slice is lost).
  resetIsolateForTests();
  const big = slicingNamespace();
  const burst = await Promise.all(Array.from({ length: 300 }, () => checkRateLimit(context({ env: { RATE_LIMITER: big }, report: SLICED }), decision(), "ip:big")));
  assert.equal(burst.filter((a) => !a.limited).length, 100);
  assert.equal(burst.filter((a) => a.limited).length, 200);
  assert.ok(big.calls.length <= 3, `a few calls, not one per request (${big.calls.length})`);
  for (const a of burst.filter((x) => x.limited)) assert.equal(a.response.headers.get("retry-after"), "30");
});

test("a grant's leftovers are kept and spent before the next call", async () => {
  const ns = slicingNamespace({ delayMs: 1 });
  const env = { RATE_LIMITER: ns };
  const rc = () => context({ env, report: SLICED });
  for (let i = 0; i < 5; i++) assert.equal((await checkRateLimit(rc(), decision(), "ip:left")).limited, false);
  assert.equal(ns.calls.length, 1, "one slice of 5 for 5 requests");
  // 6 at once: the first asks for a slice (5) and 4 share it; the 6th's call leaves 4 over.
  const six = await Promise.all(Array.from({ length: 6 }, () => checkRateLimit(rc(), decision(), "ip:left")));
  assert.ok(six.every((a) => !a.limited));
  assert.equal(ns.calls.length, 3);
  assert.equal(ns.counts.get("ip:left|default"), 15);
  // The 4 left over serve the next 4 without a call; the one after asks again.
  for (let i = 0; i < 4; i++) await checkRateLimit(rc(), decision(), "ip:left");
  assert.equal(ns.calls.length, 3, "leftovers spent, not lost");
  await checkRateLimit(rc(), decision(), "ip:left");
  assert.equal(ns.calls.length, 4);
  assert.equal(ns.counts.get("ip:left|default"), 20, "16 requests served, 4 in hand: counted once each");
});

const NONSENSE = [
  ["a limit that is not a number", { allowed: false, limit: "x", window: "minute", remaining: 0, resetS: 30, resetAtMs: T0 + 30_000 }],
  ["no reset time", { allowed: false, limit: 5, window: "minute", remaining: 0 }],
  ["an unknown window", { allowed: false, limit: 5, window: "fortnight", resetAtMs: T0 + 30_000 }],
  ["a grant larger than asked", { allowed: true, limit: 5, window: "minute", remaining: 0, resetAtMs: T0 + 30_000, granted: 99 }],
  ["a negative remaining count", { allowed: true, limit: 5, window: "minute", remaining: -3, resetAtMs: T0 + 30_000 }],
  ["not an object", "allowed"],
];
for (const [what, answer] of NONSENSE) {
  test(`a verdict with ${what} fails open: served without limit headers, counted`, async () => {
    const ns = { idFromName: (name) => ({ name }), get: () => ({ hit: async () => answer }) };
    const r = await checkRateLimit(context({ env: { RATE_LIMITER: ns } }), decision(), "ip:nonsense");
    assert.deepEqual(r, { limited: false, headers: {} });
    assert.equal(rateLimiterStats().failedOpen, 1);
  });
}
