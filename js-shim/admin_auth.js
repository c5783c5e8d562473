// Admin endpoints (purge) need the ADMIN_TOKEN secret in X-Admin-Token. Without the secret configured
// they are off (503 naming the fix) rather than open. The token is never logged or echoed.
const encoder = new TextEncoder();

// Constant-time comparison: the time taken does not depend on where the strings differ. Both sides
// are hashed first so the length of the secret does not leak either.
export async function secretsEqual(given, expected) {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

// Returns null when the request may proceed, else the error response.
export async function requireAdmin(rc, endpoint) {
  if (!rc.cfg.adminTokenConfigured) {
    rc.log("warn", "admin_disabled", { endpoint });
    return rc.error(503, "admin endpoints are disabled: the ADMIN_TOKEN secret is not set (wrangler secret put ADMIN_TOKEN)");
  }
  const given = rc.request.headers.get("x-admin-token");
  if (!given || !(await secretsEqual(given, rc.env.ADMIN_TOKEN))) {
    rc.log("warn", "admin_auth_failed", { endpoint, tokenPresent: Boolean(given) });
    return rc.error(401, given ? "invalid X-Admin-Token" : "missing X-Admin-Token header");
  }
  return null;
}
