// js-shim/jwt_verify.js in plain Node (WebCrypto): the HS256 signature over the signing input the core
// returned, the refusals that need no crypto, and the secret imported once per isolate (isolate_context.js).
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { verifyHs256 } from "../../js-shim/jwt_verify.js";
import { isolate, resetIsolateForTests } from "../../js-shim/isolate_context.js";

beforeEach(() => resetIsolateForTests());

const b64url = (buf) => Buffer.from(buf).toString("base64url");
// A token and the claims result the core would return for it (jwt_bridge.js checkJwtClaims).
function signed(secret, claims = { sub: "u1", exp: 2_000_000_000 }) {
  const signingInput = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createHmac("sha256", secret).update(signingInput).digest();
  const token = `${signingInput}.${b64url(signature)}`;
  return { token, result: { ok: true, token, signingInput: new TextEncoder().encode(signingInput), signature: new Uint8Array(signature), claims } };
}

test("a token signed with the secret is accepted, with the claims the core read", async () => {
  const { token, result } = signed("k3y");
  assert.deepEqual(await verifyHs256(token, "k3y", result), { ok: true, claims: { sub: "u1", exp: 2_000_000_000 } });
  // The same secret as bytes.
  assert.equal((await verifyHs256(token, new TextEncoder().encode("k3y"), result)).ok, true);
});

test("another secret, a tampered signature or a short one: jwt:bad-signature", async () => {
  const { token, result } = signed("k3y");
  assert.deepEqual(await verifyHs256(token, "other", result), { ok: false, reason: "jwt:bad-signature" });
  const flipped = { ...result, signature: result.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
  assert.equal((await verifyHs256(token, "k3y", flipped)).reason, "jwt:bad-signature");
  assert.equal((await verifyHs256(token, "k3y", { ...result, signature: result.signature.subarray(0, 31) })).reason, "jwt:bad-signature");
});

test("refusals before any crypto: the core's own reason, a result for another token, no secret", async () => {
  const { token, result } = signed("k3y");
  assert.deepEqual(await verifyHs256(token, "k3y", { ok: false, reason: "jwt:expired" }), { ok: false, reason: "jwt:expired" });
  assert.deepEqual(await verifyHs256(token, "k3y", null), { ok: false, reason: "jwt:malformed" });
  assert.deepEqual(await verifyHs256(`${token}x`, "k3y", result), { ok: false, reason: "jwt:claims-mismatch" });
  assert.deepEqual(await verifyHs256(token, "", result), { ok: false, reason: "jwt:no-secret" });
  assert.deepEqual(await verifyHs256(token, undefined, result), { ok: false, reason: "jwt:no-secret" });
});

test("the secret is imported once per isolate, and again when it changes", async () => {
  const one = signed("first");
  await verifyHs256(one.token, "first", one.result);
  const key = isolate.jwtKey.key;
  assert.equal(isolate.jwtKey.secret, "first");
  await verifyHs256(one.token, "first", one.result);
  assert.equal(isolate.jwtKey.key, key, "the same CryptoKey is reused");
  const two = signed("second");
  assert.equal((await verifyHs256(two.token, "second", two.result)).ok, true);
  assert.notEqual(isolate.jwtKey.key, key);
});
