// Auth before the cache: in AUTH_MODE=jwt a bad token touches neither the cache nor the origin; in
// AUTH_MODE=origin the origin judges every token it has not accepted recently, and cache hits go only
// to accepted tokens. The demo origin refuses `Bearer bad-*` / `revoked-*` on every route.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

const SECRET = "test-secret-0123456789abcdef";
const b64url = (data) => Buffer.from(data).toString("base64url");

async function signJwt(payload, { secret = SECRET, header = { alg: "HS256", typ: "JWT" } } = {}) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${b64url(sig)}`;
}
const nowS = () => Math.floor(Date.now() / 1000);

let origin;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  await origin?.close();
});
beforeEach(() => origin.reset());

test("jwt mode: missing, malformed, expired, not-yet-valid, badly signed or alg-confused tokens get 401 and touch nothing", async () => {
  const w = await startWorker({ origin, vars: { AUTH_MODE: "jwt", JWT_SECRET: SECRET, JWT_ISSUER: "edge-cache-tests", RATE_LIMIT: "off" } });
  try {
    const good = { sub: "user-1", iss: "edge-cache-tests", exp: nowS() + 600 };
    const noneToken = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(good))}.`;
    const cases = [
      { name: "missing", headers: {} },
      { name: "not bearer", headers: { authorization: "Basic dXNlcjpwYXNz" } },
      { name: "garbage", headers: { authorization: "Bearer not.a.jwt" } },
      { name: "expired", headers: { authorization: `Bearer ${await signJwt({ ...good, exp: nowS() - 3600 })}` } },
      { name: "not yet valid", headers: { authorization: `Bearer ${await signJwt({ ...good, nbf: nowS() + 3600 })}` } },
      { name: "wrong issuer", headers: { authorization: `Bearer ${await signJwt({ ...good, iss: "someone-else" })}` } },
      { name: "wrong secret", headers: { authorization: `Bearer ${await signJwt(good, { secret: "another-secret" })}` } },
      { name: "alg none", headers: { authorization: `Bearer ${noneToken}` } },
      { name: "alg HS512 claim", headers: { authorization: `Bearer ${await signJwt(good, { header: { alg: "HS512", typ: "JWT" } })}` } },
      { name: "alg RS256 claim", headers: { authorization: `Bearer ${await signJwt(good, { header: { alg: "RS256", typ: "JWT" } })}` } },
    ];
    // Warm the entry with a valid token first, so a refused token provably cannot read it.
    const valid = await w.fetch("/v3/reference/tickers/AAPL", { headers: { authorization: `Bearer ${await signJwt(good)}` } });
    assert.equal(valid.status, 200);
    await valid.arrayBuffer();
    origin.reset();
    for (const c of cases) {
      const res = await w.fetch("/v3/reference/tickers/AAPL", { headers: c.headers });
      assert.equal(res.status, 401, c.name);
      assert.match(res.headers.get("www-authenticate") || "", /Bearer/, c.name);
      const body = await res.json();
      assert.equal(body.status, 401, c.name);
      assert.equal(res.headers.get("cache-status"), null, `${c.name}: the cache was not consulted`);
      assert.ok(!JSON.stringify(body).includes(SECRET), "the secret never appears");
    }
    assert.equal(origin.stats().total, 0, "no refused request reached the origin");

    // Any valid token reads the shared entry (jwt mode authorises "is a customer").
    const other = await w.fetch("/v3/reference/tickers/AAPL", { headers: { authorization: `Bearer ${await signJwt({ ...good, sub: "user-2" })}` } });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get("cache-status"), "HIT");
    await other.arrayBuffer();
    // Login paths are exempt, so clients can obtain a token.
    const login = await w.fetch("/api/auth/login", { method: "POST", body: JSON.stringify({ username: "u" }), headers: { "content-type": "application/json" } });
    assert.equal(login.status, 200);
    await login.arrayBuffer();
    assert.equal(origin.count("/api/auth/login"), 1);
  } finally {
    await w.close();
  }
});

test("jwt mode without the JWT_SECRET secret answers 503 and says why", async () => {
  const w = await startWorker({ origin, vars: { AUTH_MODE: "jwt", RATE_LIMIT: "off" } });
  try {
    const res = await w.fetch("/v3/reference/tickers/AAPL", { headers: { authorization: "Bearer x.y.z" } });
    assert.equal(res.status, 503);
    assert.match((await res.json()).message, /JWT_SECRET/);
    assert.equal(origin.stats().total, 0);
  } finally {
    await w.close();
  }
});

test("origin mode: unknown tokens are judged by the origin; hits only for accepted tokens; refusals remembered", async () => {
  const w = await startWorker({ origin, vars: { AUTH_MODE: "origin", AUTH_CACHE_TTL: "300", RATE_LIMIT: "off" } });
  const path = "/v3/reference/tickers/MSFT";
  const as = (token) => ({ headers: { authorization: `Bearer ${token}` } });
  try {
    const first = await w.fetch(path, as("good-alice"));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("cache-status"), "MISS");
    await first.arrayBuffer();
    const again = await w.fetch(path, as("good-alice"));
    assert.equal(again.headers.get("cache-status"), "HIT", "an accepted token reads the cache");
    await again.arrayBuffer();
    assert.equal(origin.count(path), 1);

    // A token the worker has not seen accepted goes to the origin even though the entry is cached.
    const bob = await w.fetch(path, as("good-bob"));
    assert.equal(bob.status, 200);
    assert.equal(bob.headers.get("cache-status"), "MISS");
    await bob.arrayBuffer();
    assert.equal(origin.count(path), 2);
    const [, bobAtOrigin] = origin.stats().requests.filter((r) => r.path === path);
    assert.equal(bobAtOrigin.headers.authorization, "Bearer good-bob", "the origin judged bob's own token");

    // A revoked token never gets the cached data: the origin refuses it, and the refusal is remembered.
    const mallory = await w.fetch(path, as("revoked-mallory"));
    assert.equal(mallory.status, 401);
    await mallory.arrayBuffer();
    assert.equal(origin.count(path), 3);
    const malloryAgain = await w.fetch(path, as("revoked-mallory"));
    assert.equal(malloryAgain.status, 401);
    assert.equal((await malloryAgain.json()).status, 401);
    assert.equal(origin.count(path), 3, "the remembered refusal did not reach the origin");

    // Acceptance is per rule: alice's acceptance for company info does not cover another kind of data.
    const other = await w.fetch("/v3/reference/tickers/types", as("good-alice"));
    await other.arrayBuffer();
    assert.equal(origin.count("/v3/reference/tickers/types"), 1);
  } finally {
    await w.close();
  }
});

// The worker's own answers (431 for oversized headers, 502/504) say nothing about a token: only what
// the origin answered becomes a verdict. A refused token must not be accepted because the worker
// refused the request before the origin saw it.
test("origin mode: a request the worker refuses itself (431) never marks its token accepted", async () => {
  const w = await startWorker({ origin, vars: { AUTH_MODE: "origin", AUTH_CACHE_TTL: "300", RATE_LIMIT: "off" } });
  const as = (token, extra = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });
  const today = new Date().toLocaleDateString("en-CA", { timeZone: "America/New_York" });
  const cached = "/v1/open-close/AAPL/2024-01-02"; // a past date: cached
  try {
    const warm = await w.fetch(cached, as("good-alice"));
    assert.equal(warm.status, 200);
    await warm.arrayBuffer();
    // Same rule, today's date: not cached, so passed through — and refused by the worker for its headers.
    const junk = await w.fetch(`/v1/open-close/AAPL/${today}`, as("bad-mallory", { "x-junk": "j".repeat(20_000) }));
    assert.equal(junk.status, 431);
    await junk.arrayBuffer();
    const mallory = await w.fetch(cached, as("bad-mallory"));
    assert.equal(mallory.status, 401, "judged by the origin, not served from the cache");
    await mallory.arrayBuffer();
    assert.equal(origin.count(cached), 2);
  } finally {
    await w.close();
  }
});

test("origin mode: requests without credentials are judged once per rule, then served from the cache", async () => {
  const w = await startWorker({ origin, vars: { AUTH_MODE: "origin", RATE_LIMIT: "off" } });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await w.fetch("/v3/reference/tickers/IBM");
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    assert.equal(origin.count("/v3/reference/tickers/IBM"), 1);
  } finally {
    await w.close();
  }
});
