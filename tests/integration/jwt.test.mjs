// JWT checks in workerd: the core's claims check (through ec_check_jwt and js-shim/jwt_bridge.js) and
// the shim's HS256 verification (js-shim/jwt_verify.js), against tokens signed here with node's WebCrypto.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";

const SECRET = "test-secret-with-enough-entropy-0123456789";
const NOW = 1_800_000_000;
const encoder = new TextEncoder();

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

async function hs256(signingInput, secret) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput)));
}

async function sign(payload, { header = { alg: "HS256", typ: "JWT" }, secret = SECRET } = {}) {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${b64url(await hs256(signingInput, secret))}`;
}

const claims = (extra = {}) => ({ sub: "user-42", iss: "https://auth.example.com", aud: "edge", exp: NOW + 600, iat: NOW - 10, ...extra });

let w;
before(async () => {
  w = await startWorker({ withoutDurableObjects: true, modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/jwt_worker.js") });
});
after(async () => {
  await w?.close();
});

async function check(token, { secret = SECRET, ...options } = {}) {
  const res = await w.fetch("/check", {
    method: "POST",
    body: JSON.stringify({ token, secret, nowS: NOW, leewayS: 30, issuer: "https://auth.example.com", audience: "edge", ...options }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

test("a valid HS256 token passes the core's claims check and the signature check", async () => {
  const token = await sign(claims({ nbf: NOW - 5 }));
  const r = await check(token);
  assert.equal(r.claims.ok, true);
  assert.equal(r.claims.signingInput, token.slice(0, token.lastIndexOf(".")));
  assert.equal(r.claims.signatureHex, Buffer.from(token.split(".")[2], "base64url").toString("hex"));
  assert.deepEqual(r.verified, {
    ok: true,
    claims: { sub: "user-42", iss: "https://auth.example.com", exp: NOW + 600, nbf: NOW - 5, iat: NOW - 10 },
  });
});

test("a tampered payload or signature fails verification", async () => {
  const token = await sign(claims());
  const [h, p, s] = token.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[0] ^= 1;
  const badSignature = await check(`${h}.${p}.${b64url(sig)}`);
  assert.equal(badSignature.claims.ok, true, "the claims are fine, only the signature is not");
  assert.deepEqual(badSignature.verified, { ok: false, reason: "jwt:bad-signature" });

  // Elevated claims under the original signature.
  const forged = `${h}.${b64url(JSON.stringify(claims({ sub: "admin" })))}.${s}`;
  assert.deepEqual((await check(forged)).verified, { ok: false, reason: "jwt:bad-signature" });

  // A truncated signature never reaches crypto.subtle as a valid one.
  assert.deepEqual((await check(`${h}.${p}.${b64url(sig.subarray(0, 16))}`)).verified, { ok: false, reason: "jwt:bad-signature" });
});

test("a token signed with another secret fails; an empty secret is refused", async () => {
  const token = await sign(claims(), { secret: "some-other-secret" });
  assert.deepEqual((await check(token)).verified, { ok: false, reason: "jwt:bad-signature" });
  assert.deepEqual((await check(await sign(claims()), { secret: "" })).verified, { ok: false, reason: "jwt:no-secret" });
});

test("alg none, alg confusion and a re-signed header are refused by the core", async () => {
  const unsecured = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims()))}.`;
  const none = await check(unsecured);
  assert.deepEqual(none.claims, { ok: false, error: 2, reason: "jwt:algorithm-not-allowed" });
  assert.deepEqual(none.verified, { ok: false, reason: "jwt:algorithm-not-allowed" });
  // Correctly HMAC-signed, but the header names another algorithm: still refused.
  for (const alg of ["HS512", "RS256", "hs256", "none"]) {
    const r = await check(await sign(claims(), { header: { alg, typ: "JWT" } }));
    assert.equal(r.verified.reason, "jwt:algorithm-not-allowed", alg);
  }
  const noAlg = await check(await sign(claims(), { header: { typ: "JWT" } }));
  assert.equal(noAlg.verified.reason, "jwt:algorithm-not-allowed");
  const crit = await check(await sign(claims(), { header: { alg: "HS256", crit: ["b64"], b64: false } }));
  assert.equal(crit.verified.reason, "jwt:crit-unsupported");
});

test("expiry and not-before are checked with the leeway", async () => {
  assert.equal((await check(await sign(claims({ exp: NOW - 60 })))).verified.reason, "jwt:expired");
  assert.equal((await check(await sign(claims({ exp: NOW - 29 })))).verified.ok, true, "inside the 30 s leeway");
  assert.equal((await check(await sign(claims({ exp: NOW - 30 })))).verified.reason, "jwt:expired");
  assert.equal((await check(await sign(claims({ nbf: NOW + 3600 })))).verified.reason, "jwt:not-yet-valid");
  assert.equal((await check(await sign(claims({ nbf: NOW + 30 })))).verified.ok, true);
  assert.equal((await check(await sign(claims({ exp: undefined })))).verified.reason, "jwt:missing-exp");
  assert.equal((await check(await sign(claims({ exp: String(NOW + 600) })))).verified.reason, "jwt:bad-claim-type");
  // A clock that is not a number fails closed.
  assert.equal((await check(await sign(claims()), { nowS: "soon" })).verified.reason, "jwt:expired");
});

test("issuer and audience must match when required", async () => {
  assert.equal((await check(await sign(claims({ iss: "https://evil.example" })))).verified.reason, "jwt:issuer-mismatch");
  assert.equal((await check(await sign(claims({ iss: undefined })))).verified.reason, "jwt:issuer-mismatch");
  assert.equal((await check(await sign(claims({ aud: "other" })))).verified.reason, "jwt:audience-mismatch");
  assert.equal((await check(await sign(claims({ aud: ["api", "edge"] })))).verified.ok, true, "aud as an array");
  assert.equal((await check(await sign(claims({ aud: "other" })), { audience: "" })).verified.ok, true, "no audience required");
});

test("malformed and oversized tokens never reach crypto", async () => {
  for (const token of ["", "abc", "a.b", "a.b.c.d", "Bearer x.y.z", "é.é.é"]) {
    assert.equal((await check(token)).verified.reason, "jwt:malformed", JSON.stringify(token));
  }
  const huge = await sign(claims({ pad: "x".repeat(10_000) }));
  assert.equal((await check(huge)).verified.reason, "jwt:too-large");
  const tooBigForScratch = "a".repeat(70_000);
  assert.equal((await check(tooBigForScratch)).verified.reason, "jwt:too-large");
});

test("unicode claims come back intact", async () => {
  const r = await check(await sign(claims({ sub: "Jürgen 🚀" })));
  assert.equal(r.verified.ok, true);
  assert.equal(r.verified.claims.sub, "Jürgen 🚀");
});

test("the signing input is a copy: checking another token does not change what is verified", async () => {
  const token = await sign(claims({ sub: "first" }));
  const other = await sign(claims({ sub: "second" }), { secret: "another-secret" });
  const res = await w.fetch("/check-two", {
    method: "POST",
    body: JSON.stringify({ token, other, secret: SECRET, nowS: NOW, leewayS: 30, issuer: "", audience: "" }),
  });
  const r = await res.json();
  assert.equal(r.first.ok, true);
  assert.equal(r.first.claims.sub, "first");
  assert.deepEqual(r.second, { ok: false, reason: "jwt:bad-signature" });
  assert.deepEqual(r.crossed, { ok: false, reason: "jwt:claims-mismatch" });
});
