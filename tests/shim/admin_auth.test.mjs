// js-shim/admin_auth.js in plain Node: the admin token check — off (503) without the secret, 401 for a
// missing or wrong token, and the token never in a log line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { requireAdmin, secretsEqual } from "../../js-shim/admin_auth.js";

test("secretsEqual compares whole strings, whatever their lengths", async () => {
  assert.equal(await secretsEqual("s3cret-token", "s3cret-token"), true);
  assert.equal(await secretsEqual("s3cret-token", "s3cret-tokeN"), false);
  assert.equal(await secretsEqual("s3cret", "s3cret-token"), false);
  assert.equal(await secretsEqual("", ""), true);
});

function rc({ configured = true, token, given }) {
  const logs = [];
  return {
    logs,
    cfg: { adminTokenConfigured: configured },
    env: { ADMIN_TOKEN: token },
    request: new Request("https://h.test/api/v1/cache/purge", { headers: given === undefined ? {} : { "x-admin-token": given } }),
    log: (level, event, fields) => logs.push({ level, event, ...fields }),
    error: (status, message) => ({ status, message }),
  };
}

test("without ADMIN_TOKEN the endpoint is off: 503 naming the fix", async () => {
  const r = rc({ configured: false, given: "anything" });
  const denied = await requireAdmin(r, "/purge");
  assert.equal(denied.status, 503);
  assert.match(denied.message, /wrangler secret put ADMIN_TOKEN/);
});

test("a missing or wrong token is a 401 that says which; the right one passes", async () => {
  assert.deepEqual(await requireAdmin(rc({ token: "t0ken" }), "/purge"), { status: 401, message: "missing X-Admin-Token header" });
  const wrong = rc({ token: "t0ken", given: "guess" });
  assert.deepEqual(await requireAdmin(wrong, "/purge"), { status: 401, message: "invalid X-Admin-Token" });
  assert.deepEqual(wrong.logs, [{ level: "warn", event: "admin_auth_failed", endpoint: "/purge", tokenPresent: true }], "the token given is not logged");
  assert.equal(await requireAdmin(rc({ token: "t0ken", given: "t0ken" }), "/purge"), null);
});
