// SHA-256 of a string as lower-case hex, through the runtime's crypto.subtle. Its own module with no
// imports: rate_limiter.js uses it and must stay loadable in Node (tests/shim), where the core is not.
const encoder = new TextEncoder();

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  let hex = "";
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, "0");
  return hex;
}
