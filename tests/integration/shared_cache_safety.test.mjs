// Issue #14, as an attacker tries it: the worker in workerd (Miniflare, through the harness) in front of
// an origin that checks credentials itself (fixtures/auth_origin.mjs: Bearer tokens, a session cookie,
// an X-Api-Key header, ?apiKey=; per-user bodies; a /reflect path that echoes what reached it; every
// request recorded). One test, or one test per auth mode, per finding F1–F15: each reproduces the attack
// and asserts the SAFE outcome, and each checks the origin's counters so it provably ran the path.
// Findings mapped from the F9–F15 line: F9 /health shows the backend, F10 ops endpoints not
// rate limited, F11 Range requests, F12 repeated parameters, F13 empty/unknown AUTH_MODE, F14 IPv6
// spellings, F15 Authorization scheme case and spacing.
//
// ASSUMED CONFIGURATION (new in issue #14; the lead aligns either these names or the implementation):
//   rules.keys.credentialCookies: ["sessionid"]            cookie names that are credentials. Without it
//                                                          (the shipped rules), the Cookie header as a
//                                                          whole counts as a credential.
//   rules.keys.credentialHeaders: ["authorization", "x-api-key"]   request headers that are credentials
//                                                          (default ["authorization"]); they reach the origin.
//   rules.keys.credentialParams                            (exists today) query credentials.
//   rule.forwardCredentialParams: ["apiKey"]               the origin of this rule needs these credential
//                                                          parameters: forwarded (never keyed). Without it
//                                                          no credential parameter is forwarded.
//   rule.sharedAcrossCredentials: true                     (named in the issue) the route's data is the same
//                                                          for every authorised client: shared although the
//                                                          request carried credentials; auth still per request.
//   rules.forwardRequestHeaders: ["x-client-version"]      extra request headers on the forwarding allow list
//                                                          (besides what the origin needs and the rule's vary).
//   /health: rules (source, problems) still reported; the backend only with X-Admin-Token.
// Each test that uses a new field gets its own small CACHE_RULES override holding only that field, and
// asserts at its end that the override is in force, so a name mismatch fails loudly and no test passes
// on the embedded rules by accident.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";
import { startAuthOrigin } from "./fixtures/auth_origin.mjs";

const JWT_SECRET = "shared-cache-safety-secret-0123456789";
const ADMIN_TOKEN = "shared-cache-safety-admin-token";
const MODE_VARS = {
  none: { AUTH_MODE: "none" },
  origin: { AUTH_MODE: "origin", AUTH_CACHE_TTL: "300" },
  jwt: { AUTH_MODE: "jwt", JWT_SECRET },
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- rules --------------------------------------------------------------------------------------

const SHIPPED = JSON.parse(readFileSync(join(root, "config/cache-rules.json"), "utf8"));

// The shipped rules with extra rules first (first match wins), extra key options and top-level fields.
function rulesWith({ rules = [], keys = {}, rateLimits, top = {} } = {}) {
  const r = structuredClone(SHIPPED);
  r.rules = [...rules, ...r.rules];
  r.keys = { ...r.keys, ...keys };
  if (rateLimits !== undefined) r.rateLimits = rateLimits;
  return JSON.stringify({ ...r, ...top });
}

// Rules in today's format (they load on today's code): fixed-TTL rules over parts of the fixture.
const RULES_TODAY = rulesWith({
  rules: [
    { name: "f2-items", path: "/p/f2/bearer/public/{id}", class: "DAY" },
    { name: "f3-fixed", path: "/p/f3fixed/*", class: "DAY" },
    { name: "f4-area", path: "/p/f4/*", class: "DAY" },
    { name: "reflect-vary", path: "/reflect/vary", class: "DAY", vary: ["accept-language"] },
  ],
});
// New: a credential parameter the origin needs on /p/fwd/* and /reflect/fwd.
const RULES_FORWARD_APIKEY = rulesWith({
  rules: [
    { name: "fwd-area", path: "/p/fwd/*", class: "ORIGIN", forwardCredentialParams: ["apiKey"] },
    { name: "reflect-fwd", path: "/reflect/fwd", class: "ORIGIN", forwardCredentialParams: ["apiKey"] },
  ],
});
// New: the credential definition's cookie names and headers.
const RULES_NAMED_COOKIE = rulesWith({ keys: { credentialCookies: ["sessionid"] } });
const RULES_CREDENTIAL_HEADER = rulesWith({ keys: { credentialHeaders: ["authorization", "x-api-key"] } });
// New: a route whose data is the same for every authorised client.
const RULES_SHARED = rulesWith({
  rules: [{ name: "shared-area", path: "/p/shared/*", class: "DAY", sharedAcrossCredentials: true }],
});
// New: a configured addition to the forwarded-header allow list.
const RULES_FORWARD_HEADER = rulesWith({ top: { forwardRequestHeaders: ["x-client-version"] } });
// Today's format: small per-minute limits, so a limit is reached in a few requests.
const RULES_LIMITED = rulesWith({
  rateLimits: { enabled: true, default: { perMinute: 5, perDay: 1000 }, bypass: { perMinute: 2, perDay: 100 } },
});
const RULES_LIMITED_BYPASS = rulesWith({
  rateLimits: { enabled: true, default: { perMinute: 50, perDay: 1000 }, bypass: { perMinute: 2, perDay: 100 } },
});

// ---- tokens, workers, requests ------------------------------------------------------------------

const b64url = (data) => Buffer.from(data).toString("base64url");
function signJwt(sub) {
  const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }))}`;
  return `${input}.${createHmac("sha256", JWT_SECRET).update(input).digest("base64url")}`;
}

// The credentials of `user` of one kind, as the given mode needs them: in jwt mode every request also
// carries the user's JWT (the worker requires one), which is also the bearer credential the origin checks.
function credentials(mode, kind, user) {
  const headers = {};
  let query = "";
  if (mode === "jwt") headers.authorization = `Bearer ${signJwt(user)}`;
  if (kind === "bearer" && mode !== "jwt") headers.authorization = `Bearer ok-${user}`;
  if (kind === "cookie") headers.cookie = `sessionid=ok-${user}`;
  if (kind === "xapikey") headers["x-api-key"] = `ok-${user}`;
  if (kind === "apikey") query = `apiKey=ok-${user}`;
  return { headers, query };
}
const withQuery = (path, query) => (query ? `${path}${path.includes("?") ? "&" : "?"}${query}` : path);

let origin;
before(async () => {
  origin = await startAuthOrigin({ jwtSecret: JWT_SECRET });
});
after(async () => {
  await origin?.close();
});

// A fresh worker (fresh caches, verdicts and counters) in front of the shared origin, whose log is reset.
async function withWorker({ mode = "none", rules, vars = {}, rateLimit = false } = {}, fn) {
  origin.reset();
  const w = await startWorker({
    origin,
    vars: {
      ...MODE_VARS[mode], ADMIN_TOKEN, RATE_LIMIT: rateLimit ? "on" : "off",
      ...(rules ? { CACHE_RULES: rules } : {}), ...vars,
    },
  });
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

async function get(w, path, headers = {}) {
  const res = await w.fetch(path, { headers });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, cache: res.headers.get("cache-status"), key: res.headers.get("x-cache-key"), text, body, headers: res.headers };
}

// Which rules are in force, for assertion messages: a mismatch in an assumed field name shows here.
async function rulesNote(w) {
  const health = await (await w.fetch("/health", { headers: { "x-admin-token": ADMIN_TOKEN } })).json().catch(() => null);
  const rules = health?.rules;
  if (!rules) return "(rules status unavailable)";
  return rules.source === "override" ? "(rules: the test's override)" : `(rules: ${rules.source}; override problems: ${JSON.stringify(rules.problems)})`;
}

async function assertOverrideInForce(w) {
  const note = await rulesNote(w);
  assert.equal(note, "(rules: the test's override)", `the test's CACHE_RULES override must load ${note}`);
}

// The query the key describes: x-cache-key is <origin><path>[?query][\n<vary>...] (DEBUG_HEADERS=true in
// dev), with the newlines percent-escaped.
function keyQuery(key) {
  const first = key.split("%0A")[0];
  const q = first.indexOf("?");
  return q < 0 ? "" : first.slice(q + 1);
}

// Counting to a limit must happen inside one clock minute.
async function clearOfMinuteBoundary() {
  const intoMinuteMs = Date.now() % 60_000;
  if (intoMinuteMs > 45_000) await sleep(60_000 - intoMinuteMs + 250);
}

// ---- F1: the verdict identity includes every credential ---------------------------------------------

test("F1 [origin]: a cookie-authenticated MISS is never a HIT for a client without the cookie or with a forged one", async () => {
  await withWorker({ mode: "origin" }, async (w) => {
    const path = "/p/cookie/public/report";
    const first = await get(w, path, { cookie: "sessionid=ok-user1" });
    assert.equal(first.status, 200);
    assert.equal(first.body.user, "user1");
    assert.equal(first.cache, "MISS");
    for (const [name, headers] of [
      ["no credentials", {}],
      ["a forged session cookie", { cookie: "sessionid=forged" }],
      ["only an unrelated cookie", { cookie: "theme=dark" }],
      ["a forged bearer token", { authorization: "Bearer forged" }],
    ]) {
      const r = await get(w, path, headers);
      assert.notEqual(r.cache, "HIT", `${name}: served user1's entry from the cache`);
      assert.ok(!r.text.includes("user1"), `${name}: got user1's data`);
      assert.equal(r.status, 401, `${name}: the origin refuses this request (got ${r.status})`);
    }
    assert.ok(origin.count(path) >= 2, "the origin judged the request without credentials itself");
    const again = await get(w, path, { cookie: "sessionid=ok-user1" });
    assert.equal(again.status, 200);
    assert.equal(again.body.user, "user1");
    assert.equal(again.cache, "HIT", "the accepted cookie still reads the cache");
  });
});

test("F1 [origin]: a credential query parameter's MISS is never a HIT without it or with an invalid one", async () => {
  await withWorker({ mode: "origin", rules: RULES_FORWARD_APIKEY }, async (w) => {
    const note = await rulesNote(w);
    const path = "/p/fwd/apikey/public/report";
    const first = await get(w, `${path}?apiKey=ok-key2`);
    assert.equal(first.status, 200, `the rule forwards apiKey, so the origin accepts key2 ${note}`);
    assert.equal(first.body.user, "key2");
    assert.equal(origin.count(path), 1);
    for (const [name, target] of [["no apiKey", path], ["an invalid apiKey", `${path}?apiKey=INVALID`]]) {
      const r = await get(w, target);
      assert.notEqual(r.cache, "HIT", `${name}: served key2's entry from the cache`);
      assert.ok(!r.text.includes("key2"), `${name}: got key2's data`);
      assert.equal(r.status, 401, `${name}: the origin refuses this request`);
    }
    assert.equal(origin.count(path), 3, "the origin judged both");
    await assertOverrideInForce(w);
  });
});

test("F1 [origin]: with named credential cookies, a session's MISS is never a HIT for a client without that cookie", async () => {
  await withWorker({ mode: "origin", rules: RULES_NAMED_COOKIE }, async (w) => {
    const path = "/p/cookie/public/named";
    const first = await get(w, path, { cookie: "theme=dark; sessionid=ok-user1" });
    assert.equal(first.status, 200);
    assert.equal(first.body.user, "user1");
    for (const [name, cookie] of [["only an unrelated cookie", "theme=dark"], ["a forged session", "sessionid=forged; theme=dark"]]) {
      const r = await get(w, path, { cookie });
      assert.notEqual(r.cache, "HIT", `${name}: served user1's entry`);
      assert.ok(!r.text.includes("user1"), `${name}: got user1's data`);
      assert.equal(r.status, 401, name);
    }
    assert.ok(origin.count(path) >= 2, "the origin judged the request without the session cookie");
    // Only the named cookie is the credential: the same session with other cookies is the same client.
    const same = await get(w, path, { cookie: "sessionid=ok-user1; theme=light" });
    assert.equal(same.status, 200);
    assert.equal(same.body.user, "user1");
    assert.equal(same.cache, "HIT", "the same session (other cookies differ) reads its accepted entry");
    await assertOverrideInForce(w);
  });
});

test("F1 [origin]: a credential request header (X-Api-Key) is part of the verdict identity", async () => {
  await withWorker({ mode: "origin", rules: RULES_CREDENTIAL_HEADER }, async (w) => {
    const path = "/p/xapikey/public/report";
    const first = await get(w, path, { "x-api-key": "ok-user2" });
    assert.equal(first.status, 200, "the credential header reaches the origin");
    assert.equal(first.body.user, "user2");
    for (const [name, headers] of [["no X-Api-Key", {}], ["a forged X-Api-Key", { "x-api-key": "forged" }]]) {
      const r = await get(w, path, headers);
      assert.notEqual(r.cache, "HIT", `${name}: served user2's entry`);
      assert.ok(!r.text.includes("user2"), `${name}: got user2's data`);
      assert.equal(r.status, 401, name);
    }
    assert.equal(origin.count(path), 3, "the origin judged both");
    await assertOverrideInForce(w);
  });
});

test("F1 [jwt]: a cookie or ?apiKey= without a valid JWT never reads an entry a JWT client fetched", async () => {
  await withWorker({ mode: "jwt" }, async (w) => {
    const path = "/p/cookie/public/jwt";
    const first = await get(w, path, { ...credentials("jwt", "cookie", "user1").headers });
    assert.equal(first.status, 200);
    assert.equal(first.body.user, "user1");
    for (const [name, target, headers] of [
      ["no credentials", path, {}],
      ["the session cookie alone", path, { cookie: "sessionid=ok-user1" }],
      ["an apiKey alone", `${path}?apiKey=ok-user1`, {}],
      ["a forged bearer token", path, { authorization: "Bearer ok-user1" }],
    ]) {
      const r = await get(w, target, headers);
      assert.equal(r.status, 401, name);
      assert.ok(!r.text.includes("data-of-user1"), `${name}: got user1's data`);
    }
    assert.equal(origin.count(path), 1, "refused at the edge: the origin saw only the JWT client");
  });
});

// ---- F2: verdict scopes and what counts as acceptance -----------------------------------------------

test("F2 [origin]: unmatched paths do not share one verdict scope; a 404 is not acceptance", async () => {
  await withWorker({ mode: "origin" }, async (w) => {
    const report = "/p/bearer/public/report";
    const alice = await get(w, report, { authorization: "Bearer ok-alice" });
    assert.equal(alice.status, 200);
    assert.equal(alice.cache, "MISS");
    // The attacker gets a 404 on a path that exists for no one, then asks for alice's entry.
    const notFound = await get(w, "/nothing", { authorization: "Bearer evil" });
    assert.equal(notFound.status, 404);
    assert.equal(origin.count("/nothing"), 1);
    const evil = await get(w, report, { authorization: "Bearer evil" });
    assert.notEqual(evil.cache, "HIT", "a 404 elsewhere made `Bearer evil` accepted for alice's entry");
    assert.ok(!evil.text.includes("alice"), "evil got alice's data");
    assert.equal(evil.status, 401);
    assert.equal(origin.count(report), 2, "the origin judged evil's token on this path");

    // A 2xx for one unmatched path says nothing about another: mallory is a customer, not the admin.
    const panel = "/p/admin/public/panel";
    assert.equal((await get(w, panel, { authorization: "Bearer ok-admin" })).status, 200);
    assert.equal((await get(w, "/p/bearer/public/mine", { authorization: "Bearer ok-mallory" })).status, 200);
    const mallory = await get(w, panel, { authorization: "Bearer ok-mallory" });
    assert.notEqual(mallory.cache, "HIT", "acceptance on another unmatched path served the admin's entry");
    assert.ok(!mallory.text.includes("data-of-admin"), "mallory got the admin's data");
    assert.equal(mallory.status, 401);
    assert.equal(origin.count(panel), 2);
  });
});

test("F2 [origin]: within one rule, a 404 from the origin is not acceptance of the token", async () => {
  await withWorker({ mode: "origin", rules: RULES_TODAY }, async (w) => {
    const report = "/p/f2/bearer/public/report";
    const alice = await get(w, report, { authorization: "Bearer ok-alice" });
    assert.equal(alice.status, 200);
    assert.match(alice.headers.get("x-cache-reason") || "", /rule=f2-items/, "the test rule applies");
    const missing = await get(w, "/p/f2/bearer/public/missing", { authorization: "Bearer evil" });
    assert.equal(missing.status, 404);
    const evil = await get(w, report, { authorization: "Bearer evil" });
    assert.notEqual(evil.cache, "HIT", "the 404 made `Bearer evil` accepted for the rule");
    assert.ok(!evil.text.includes("alice"), "evil got alice's data");
    assert.equal(evil.status, 401);
    assert.equal(origin.count(report), 2, "the origin judged evil's token");
  });
});

// ---- F3: RFC 9111 §3.5 — responses to credentialed requests are not shared by default --------------

// alice then bob (then alice again) on a path whose origin answer is not marked shareable: each gets
// their own data, the second never a HIT of the first's, and no later reader gets another user's data.
async function assertNotSharedAcrossCredentials(w, mode, kind, path, note = "") {
  const as = (user) => {
    const c = credentials(mode, kind, user);
    return get(w, withQuery(path, c.query), c.headers);
  };
  const alice = await as("alice");
  assert.equal(alice.status, 200, `alice is accepted ${note}`);
  assert.equal(alice.body.user, "alice");
  const bob = await as("bob");
  assert.notEqual(bob.cache, "HIT", `${kind}: bob was served alice's response from the cache`);
  assert.equal(bob.body?.user, "bob", `${kind}: bob got ${bob.text.slice(0, 100)}`);
  const aliceAgain = await as("alice");
  assert.equal(aliceAgain.body?.user, "alice", `${kind}: alice later got ${aliceAgain.text.slice(0, 100)}`);
  assert.ok(origin.count(path.split("?")[0]) >= 2, "bob's request reached the origin");
  if (mode === "none") {
    const before = origin.count(path.split("?")[0]);
    const anonymous = await get(w, path);
    assert.notEqual(anonymous.cache, "HIT", `${kind}: a client without credentials was served a credentialed response`);
    assert.ok(!/data-of-(alice|bob)/.test(anonymous.text), `${kind}: a client without credentials got a user's data`);
    assert.equal(anonymous.status, 401);
    assert.equal(origin.count(path.split("?")[0]), before + 1, "the anonymous request reached the origin");
  }
}

for (const mode of ["none", "jwt", "origin"]) {
  test(`F3 [${mode}]: a response to a request with Authorization or a cookie, marked only max-age, is never shared`, async () => {
    await withWorker({ mode }, async (w) => {
      for (const kind of ["bearer", "cookie"]) await assertNotSharedAcrossCredentials(w, mode, kind, `/p/${kind}/maxage/f3`);
    });
  });

  test(`F3 [${mode}]: a response to a request with a credential query parameter, marked only max-age, is never shared`, async () => {
    await withWorker({ mode, rules: RULES_FORWARD_APIKEY }, async (w) => {
      await assertNotSharedAcrossCredentials(w, mode, "apikey", "/p/fwd/apikey/maxage/f3", await rulesNote(w));
      await assertOverrideInForce(w);
    });
  });

  test(`F3 [${mode}]: a rule's fixed TTL does not make a credentialed response shared`, async () => {
    await withWorker({ mode, rules: RULES_TODAY }, async (w) => {
      const probe = await get(w, "/p/f3fixed/open/none/probe", credentials(mode, "bearer", "probe").headers);
      assert.match(probe.headers.get("x-cache-reason") || "", /rule=f3-fixed/, "the test rule applies");
      await assertNotSharedAcrossCredentials(w, mode, "bearer", "/p/f3fixed/bearer/none/x");
    });
  });

  test(`F3 [${mode}]: a rule's sharedAcrossCredentials shares a max-age-only response, with auth still checked per request`, async () => {
    await withWorker({ mode, rules: RULES_SHARED }, async (w) => {
      const path = "/p/shared/bearer/maxage/list";
      const as = (user) => get(w, path, credentials(mode, "bearer", user).headers);
      const alice = await as("alice");
      assert.equal(alice.status, 200);
      let bob = await as("bob");
      // In origin mode bob's token is judged by the origin once; his next request reads the shared entry.
      if (mode === "origin") bob = await as("bob");
      assert.equal(bob.status, 200);
      assert.equal(bob.cache, "HIT", "the route's data is the same for every authorised client");
      if (mode !== "none") {
        for (const [name, headers] of [["no credentials", {}], ["a forged token", { authorization: "Bearer forged" }]]) {
          const r = await get(w, path, headers);
          assert.notEqual(r.cache, "HIT", `${name}: served the shared entry without authorisation`);
          assert.equal(r.status, 401, name);
        }
      }
      await assertOverrideInForce(w);
    });
  });
}

for (const mode of ["none", "jwt"]) {
  test(`F3 [${mode}]: responses marked public, s-maxage or must-revalidate are shared across credentials`, async () => {
    await withWorker({ mode }, async (w) => {
      for (const cc of ["public", "smaxage", "mustrevalidate"]) {
        const path = `/p/bearer/${cc}/f3-shared`;
        const alice = await get(w, path, credentials(mode, "bearer", "alice").headers);
        assert.equal(alice.status, 200, cc);
        const bob = await get(w, path, credentials(mode, "bearer", "bob").headers);
        assert.equal(bob.cache, "HIT", `${cc}: the origin allowed a shared cache to reuse it`);
        assert.equal(origin.count(path), 1, cc);
      }
    });
  });
}

// ---- F4: a refusal concerns that credential only ------------------------------------------------

test("F4 [origin]: one anonymous 401 does not lock other anonymous clients out of a public route of the same rule", async () => {
  await withWorker({ mode: "origin", rules: RULES_TODAY }, async (w) => {
    const refused = await get(w, "/p/f4/bearer/public/report", { "cf-connecting-ip": "192.0.2.10" });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("x-cache-reason") || "", /rule=f4-area/, "the test rule applies");
    const news = "/p/f4/open/public/news";
    for (const ip of ["192.0.2.11", "192.0.2.12"]) {
      const r = await get(w, news, { "cf-connecting-ip": ip });
      assert.equal(r.status, 200, `anonymous client ${ip} on a public route: ${r.text.slice(0, 120)}`);
      assert.equal(r.body.data, "public-data");
    }
    assert.ok(origin.count(news) >= 1, "the public route was fetched from the origin");
  });
});

test("F4 [origin]: one bad ?apiKey= does not lock clients without a key out of a public route", async () => {
  await withWorker({ mode: "origin", rules: RULES_FORWARD_APIKEY }, async (w) => {
    const note = await rulesNote(w);
    const news = "/p/fwd/open/public/news";
    const bad = await get(w, `${news}?apiKey=bad`, { "cf-connecting-ip": "192.0.2.20" });
    assert.equal(bad.status, 401, `the origin refuses the bad key it was forwarded ${note}`);
    for (const [ip, path] of [["192.0.2.21", news], ["192.0.2.22", "/p/fwd/open/public/other"]]) {
      const r = await get(w, path, { "cf-connecting-ip": ip });
      assert.equal(r.status, 200, `anonymous client ${ip} on ${path}: ${r.text.slice(0, 120)}`);
      assert.equal(r.body.data, "public-data");
    }
    assert.equal(origin.count(news), 2, "the bad key's request and one anonymous request reached the origin");
    await assertOverrideInForce(w);
  });
});

// ---- F5: the origin receives exactly what the key describes ---------------------------------------

for (const mode of ["none", "origin", "jwt"]) {
  test(`F5 [${mode}]: ignored, bypass and credential parameters are not forwarded; the origin's query is the key's`, async () => {
    await withWorker({ mode }, async (w) => {
      const auth = credentials(mode, null, "alice").headers;
      const lastQuery = () => origin.requests("/reflect").at(-1).query;

      // Tracking parameters are not in the key, so they must not reach the origin either.
      const poisoned = await get(w, "/reflect?k=ign&utm_source=%3Cscript%3E&fbclid=f&gclid=g&_=123", auth);
      assert.equal(poisoned.status, 200);
      assert.equal(lastQuery(), "k=ign", "the origin saw parameters the key dropped");
      const clean = await get(w, "/reflect?k=ign", auth);
      assert.equal(clean.cache, "HIT");
      assert.ok(!/script|utm_source/i.test(clean.text), "a clean client was served content built from unkeyed parameters");

      // ?nocache=true refreshes the entry: with the key's inputs only.
      await get(w, "/reflect?k=nc", auth);
      const refresh = await get(w, "/reflect?k=nc&nocache=true&utm_campaign=evil", auth);
      assert.equal(refresh.status, 200);
      assert.equal(lastQuery(), "k=nc", "the refresh forwarded nocache or an ignored parameter");
      const afterRefresh = await get(w, "/reflect?k=nc", auth);
      assert.equal(afterRefresh.cache, "HIT");
      assert.ok(!afterRefresh.text.includes("evil"), "a refresh replaced the entry with unkeyed input");

      // Credential parameters are not forwarded where no rule says the origin needs them.
      await get(w, "/reflect?k=cred&apiKey=ok-alice&token=t1", auth);
      assert.equal(lastQuery(), "k=cred", "credential parameters were forwarded");

      // Parity: whatever the client sent, the origin's query is the key's query.
      const mixed = await get(w, "/reflect?b=2&a=1&utm_medium=x&_=9&api_key=k", auth);
      assert.ok(mixed.key, "DEBUG_HEADERS gives the key");
      assert.equal(lastQuery(), keyQuery(mixed.key), "the origin's query differs from the key's");
      assert.equal(origin.count("/reflect"), 5, "every request above except the HITs reached the origin");
    });
  });
}

test("F5 [none]: a credential parameter a rule says the origin needs is forwarded, and still never keyed", async () => {
  await withWorker({ mode: "none", rules: RULES_FORWARD_APIKEY }, async (w) => {
    const note = await rulesNote(w);
    const r = await get(w, "/reflect/fwd?k=1&apiKey=ok-alice&utm_source=x");
    assert.equal(r.status, 200);
    const seen = new URLSearchParams(origin.requests("/reflect/fwd").at(-1).query);
    assert.equal(seen.get("apiKey"), "ok-alice", `the rule forwards apiKey ${note}`);
    assert.equal(seen.get("k"), "1");
    assert.equal(seen.has("utm_source"), false, "an ignored parameter was forwarded");
    assert.ok(!r.key.includes("ok-alice"), "the credential is in the key");
    await assertOverrideInForce(w);
  });
});

// ---- F6: bogus credentials are rate limited per client address too ------------------------------

for (const mode of ["none", "origin"]) {
  test(`F6 [${mode}]: 150 junk Authorization values from one address get 429s before 150 origin requests`, async () => {
    await withWorker({ mode, rules: RULES_LIMITED, rateLimit: true }, async (w) => {
      await assertOverrideInForce(w);
      await clearOfMinuteBoundary();
      const path = "/p/bearer/public/f6";
      const statuses = new Map();
      for (let i = 0; i < 150; i++) {
        const r = await get(w, path, { authorization: `Bearer junk-${i}`, "cf-connecting-ip": "198.51.100.6" });
        statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
      }
      assert.ok(origin.count(path) >= 1, "the path reaches the origin");
      assert.ok((statuses.get(429) || 0) > 0, `no 429 for 150 junk tokens from one address: ${JSON.stringify([...statuses])}`);
      assert.ok(origin.count(path) <= 5, `${origin.count(path)} junk-token requests reached the origin (per-minute limit 5)`);
    });
  });
}

test("F6 [jwt]: junk tokens are refused at the edge and never reach the origin", async () => {
  await withWorker({ mode: "jwt", rules: RULES_LIMITED, rateLimit: true }, async (w) => {
    await assertOverrideInForce(w);
    const path = "/p/bearer/public/f6";
    for (let i = 0; i < 150; i++) {
      const r = await get(w, path, { authorization: `Bearer junk-${i}`, "cf-connecting-ip": "198.51.100.7" });
      assert.ok(r.status === 401 || r.status === 429, `junk token ${i}: ${r.status}`);
    }
    assert.equal(origin.count(path), 0);
  });
});

// ---- F8: request headers reach the origin through an allow list ------------------------------------

const UNKEYED_HEADERS = {
  "x-forwarded-uri": "/poison-uri",
  "x-forwarded-path": "/poison-path",
  "x-original-path": "/poison-original",
  "x-forwarded-ssl": "poison-ssl",
  "front-end-https": "poison-feh",
  "x-url-scheme": "poison-scheme",
  "x-real-ip": "10.66.66.66",
  "x-anything": "poison-anything",
  "x-tenant-override": "poison-tenant",
};

for (const mode of ["none", "origin", "jwt"]) {
  test(`F8 [${mode}]: unkeyed headers never reach the origin, so never change cached content`, async () => {
    await withWorker({ mode }, async (w) => {
      const auth = credentials(mode, null, "alice").headers;
      const poisoned = await get(w, "/reflect?k=f8", { ...UNKEYED_HEADERS, ...auth });
      assert.equal(poisoned.status, 200);
      const seen = origin.requests("/reflect").at(-1).headers;
      const leaked = Object.keys(UNKEYED_HEADERS).filter((name) => name in seen);
      assert.deepEqual(leaked, [], "unkeyed headers reached the origin");
      const clean = await get(w, "/reflect?k=f8", auth);
      assert.equal(clean.cache, "HIT");
      assert.ok(!/poison|10\.66\.66\.66/.test(clean.text), "a clean client was served content built from unkeyed headers");
      assert.equal(origin.count("/reflect"), 1);
    });
  });
}

test("F8 [none]: the allow list still forwards credentials and the rule's vary headers", async () => {
  await withWorker({ mode: "none", rules: RULES_TODAY }, async (w) => {
    const r = await get(w, "/reflect/vary?k=1", {
      authorization: "Bearer ok-alice", cookie: "sessionid=ok-alice", "accept-language": "de", "x-anything": "poison",
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("x-cache-reason") || "", /rule=reflect-vary/, "the test rule applies");
    const seen = origin.requests("/reflect/vary").at(-1).headers;
    assert.equal(seen.authorization, "Bearer ok-alice");
    assert.equal(seen.cookie, "sessionid=ok-alice");
    assert.equal(seen["accept-language"], "de", "the rule's vary header reaches the origin");
    assert.equal("x-anything" in seen, false, "a header off the allow list reached the origin");
  });
});

test("F8 [none]: a header added to the allow list is forwarded; others still are not", async () => {
  await withWorker({ mode: "none", rules: RULES_FORWARD_HEADER }, async (w) => {
    const note = await rulesNote(w);
    await get(w, "/reflect?k=cfg", { "x-client-version": "7", "x-anything": "poison" });
    const seen = origin.requests("/reflect").at(-1).headers;
    assert.equal(seen["x-client-version"], "7", `the configured header is forwarded ${note}`);
    assert.equal("x-anything" in seen, false, "a header off the allow list reached the origin");
    await assertOverrideInForce(w);
  });
});

// ---- F9–F15: operational surface, ranges, parameter order, AUTH_MODE, identities -------------------

for (const mode of ["none", "origin"]) {
  test(`F9 [${mode}]: /health and the cache endpoints reveal no origin hostname without the admin token`, async () => {
    await withWorker({ mode }, async (w) => {
      for (const path of ["/health", "/api/v1/cache/health", "/api/v1/cache/metrics"]) {
        const r = await get(w, path);
        assert.equal(r.status, 200, path);
        assert.ok(!r.text.includes(origin.host), `${path} shows the origin (${origin.host}) to anyone`);
      }
      const admin = await get(w, "/health", { "x-admin-token": ADMIN_TOKEN });
      assert.equal(admin.status, 200);
      assert.ok(admin.text.includes(origin.host), "with the admin token /health names the backend");
    });
  });
}

test("F10 [none]: /health, /api/v1/cache/health and /api/v1/cache/metrics are rate limited", async () => {
  await withWorker({ mode: "none", rules: RULES_LIMITED, rateLimit: true }, async (w) => {
    await assertOverrideInForce(w);
    await clearOfMinuteBoundary();
    const endpoints = [["/health", "192.0.2.31"], ["/api/v1/cache/health", "192.0.2.32"], ["/api/v1/cache/metrics", "192.0.2.33"]];
    for (const [path, ip] of endpoints) {
      let limitedAt = 0;
      for (let i = 1; i <= 100 && !limitedAt; i++) {
        const r = await get(w, path, { "cf-connecting-ip": ip });
        if (r.status === 429) {
          limitedAt = i;
          assert.equal(r.body?.status, 429);
        } else {
          assert.equal(r.status, 200, path);
        }
      }
      assert.ok(limitedAt > 0, `100 requests to ${path} from one client within a minute, none limited (default limit 5)`);
    }
  });
});

for (const mode of ["none", "origin"]) {
  test(`F11 [${mode}]: Range requests count as bypass (bypass quota) or are served from the cached full response`, async () => {
    await withWorker({ mode, rules: RULES_LIMITED_BYPASS, rateLimit: true }, async (w) => {
      await assertOverrideInForce(w);
      await clearOfMinuteBoundary();
      const path = "/p/open/public/doc";
      const client = { "cf-connecting-ip": "192.0.2.41" };
      const full = await get(w, path, client);
      assert.equal(full.status, 200);
      assert.equal(origin.count(path), 1);
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const r = await get(w, path, { ...client, range: "bytes=0-9" });
        statuses.push(r.status);
        assert.ok([200, 206, 429].includes(r.status), `Range request ${i}: ${r.status}`);
        if (r.status === 206) assert.equal(r.text, full.text.slice(0, 10));
      }
      const rangeAtOrigin = origin.count(path) - 1;
      assert.ok(rangeAtOrigin <= 2, `${rangeAtOrigin} Range requests reached the origin; the bypass quota is 2 a minute (statuses ${statuses})`);
    });
  });
}

for (const mode of ["none", "origin", "jwt"]) {
  test(`F12 [${mode}]: ?q=2&q=1 and ?q=1&q=2 are different keys, and repeated parameters keep their order`, async () => {
    await withWorker({ mode }, async (w) => {
      const auth = credentials(mode, null, "alice").headers;
      const first = await get(w, "/reflect?q=2&q=1", auth);
      assert.equal(first.cache, "MISS");
      assert.equal(origin.requests("/reflect").at(-1).query, "q=2&q=1", "the origin got the values in another order");
      const swapped = await get(w, "/reflect?q=1&q=2", auth);
      assert.notEqual(swapped.cache, "HIT", "?q=1&q=2 was served the entry of ?q=2&q=1");
      assert.equal(swapped.body?.query, "q=1&q=2");
      assert.equal(origin.count("/reflect"), 2);
      const again = await get(w, "/reflect?q=2&q=1", auth);
      assert.equal(again.cache, "HIT");
      assert.equal(again.body.query, "q=2&q=1");
    });
  });
}

for (const value of ["", "bogus"]) {
  test(`F13: AUTH_MODE=${JSON.stringify(value)} refuses requests with a 503 JSON, and /health says degraded`, async () => {
    await withWorker({ vars: { AUTH_MODE: value } }, async (w) => {
      const r = await get(w, "/p/open/public/f13");
      assert.equal(r.status, 503, `served with AUTH_MODE=${JSON.stringify(value)}`);
      assert.equal(r.body?.status, 503);
      assert.equal(typeof r.body?.message, "string");
      assert.equal(origin.total(), 0, "the request reached the origin");
      const health = await get(w, "/health", { "x-admin-token": ADMIN_TOKEN });
      assert.equal(health.body?.status, "degraded", `/health with AUTH_MODE=${JSON.stringify(value)}`);
    });
  });
}

for (const mode of ["none", "origin"]) {
  test(`F14 [${mode}]: spellings of one IPv6 address are one rate-limit identity`, async () => {
    await withWorker({ mode, rules: RULES_LIMITED, rateLimit: true }, async (w) => {
      await assertOverrideInForce(w);
      await clearOfMinuteBoundary();
      const spellings = ["2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8:0:0:0:0:0:1", "2001:db8::0:1"];
      const statuses = [];
      for (const ip of [...spellings, ...spellings]) statuses.push((await get(w, "/p/open/public/f14", { "cf-connecting-ip": ip })).status);
      assert.equal(statuses.filter((s) => s === 200).length, 5, `one client, limit 5 a minute: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 429).length, 5, `${statuses}`);
    });
  });

  test(`F15 [${mode}]: Authorization scheme case and spacing do not make a new rate-limit identity`, async () => {
    await withWorker({ mode, rules: RULES_LIMITED, rateLimit: true }, async (w) => {
      await assertOverrideInForce(w);
      await clearOfMinuteBoundary();
      const spellings = ["Bearer ok-carol", "bearer ok-carol", "BEARER ok-carol", "Bearer  ok-carol", "bearer \tok-carol"];
      const statuses = [];
      // A new address for every request: only the token's identity can reach the limit.
      let n = 0;
      for (const authorization of [...spellings, ...spellings]) {
        statuses.push((await get(w, "/p/bearer/public/f15", { authorization, "cf-connecting-ip": `203.0.113.${++n}` })).status);
      }
      assert.equal(statuses.filter((s) => s === 200).length, 5, `one token, limit 5 a minute: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 429).length, 5, `${statuses}`);
    });
  });
}

// ---- also from the issue, and what must keep holding ------------------------------------------------

test("AUTH_EXEMPT_PATHS [jwt]: /public exempts /public and below, not /publicity", async () => {
  await withWorker({ mode: "jwt", vars: { AUTH_EXEMPT_PATHS: "/public" } }, async (w) => {
    for (const path of ["/public", "/public/x"]) {
      const r = await get(w, path);
      assert.equal(r.status, 200, `${path} is exempt`);
    }
    const r = await get(w, "/publicity");
    assert.equal(r.status, 401, "/publicity was exempted by the /public prefix");
    assert.equal(origin.count("/publicity"), 0);
    assert.equal(origin.count("/public"), 1);
  });
});

for (const mode of ["none", "origin"]) {
  test(`still holds [${mode}]: Set-Cookie, private, no-store and Vary: * responses are never stored`, async () => {
    await withWorker({ mode }, async (w) => {
      for (const cc of ["setcookie", "private", "nostore", "varystar"]) {
        const path = `/p/any/${cc}/r`;
        for (let i = 0; i < 2; i++) {
          const r = await get(w, path, { authorization: "Bearer ok-alice" });
          assert.equal(r.status, 200, cc);
          assert.notEqual(r.cache, "HIT", `${cc}: served from the cache`);
        }
        assert.equal(origin.count(path), 2, `${cc}: both requests reached the origin`);
      }
    });
  });
}
