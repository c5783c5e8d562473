// Who a request counts against for the rate limiter (rate_limiter.js): identities are hashes ("sub:<hex>",
// "token:<hex>", "ip:<hex>", or "anonymous"); raw tokens and IPs are never logged, returned or stored. A hash of
// an IPv4 address can be reversed by trying every address: it keeps addresses out of logs and storage listings,
// it does not anonymise them.
import * as ABI from "./generated/abi_layout.js";
import { makeRoomIn } from "./bounded_map.js";
import { credentialMaterial } from "./credentials.js";
import { isolate } from "./isolate_context.js";
import { sha256Hex } from "./sha256_hex.js";

// Identity hashes are cut to 128 bits: plenty to keep clients apart, shorter keys.
const ID_HEX_CHARS = 32;

// Who is asking, as a hash. authInfo is the auth step's identity ({sub?, tokenHash?}, see auth.js): only a
// VERIFIED credential names a client — a verified JWT's subject (counted across tokens and devices), or a
// credential the origin accepted. An unverified one does not: otherwise every junk Authorization value would be
// a fresh quota (issue #14, F6). So every other request is its client address as Cloudflare saw it, in one
// spelling (canonicalIp: the core's), otherwise "anonymous" (one shared bucket: only reachable without
// Cloudflare in front).
export async function clientIdentity(request, authInfo, canonicalIp) {
  if (authInfo?.sub) return `sub:${(await sha256Hex(`sub:${authInfo.sub}`)).slice(0, ID_HEX_CHARS)}`;
  if (authInfo?.tokenHash) return `token:${String(authInfo.tokenHash).slice(0, ID_HEX_CHARS)}`;
  const ip = request.headers.get("cf-connecting-ip");
  if (ip) return ipIdentity(ip.trim(), canonicalIp);
  return "anonymous";
}

// IP identities, remembered: a client sends many requests, and a SHA-256 through WebCrypto costs more
// CPU than a cache hit's own work. Only IPs are kept (tokens are never held, hashed or not, as keys).
// Bounded: the oldest tenth is forgotten when full (bounded_map.js). Kept in isolate.rateLimiter.ipIdentities.
const MAX_IP_IDENTITIES = 10_000;
const MAX_IP_CHARS = 45; // the longest textual IPv6 address

async function ipIdentity(ip, canonicalIp) {
  const known = isolate.rateLimiter.ipIdentities.get(ip);
  if (known !== undefined) return known;
  // "2001:DB8::1", "2001:db8:0:0::1" and "::ffff:192.0.2.1"-style spellings are one address each.
  const canonical = (canonicalIp && canonicalIp(ip)) || ip;
  const id = `ip:${(await sha256Hex(`ip:${canonical}`)).slice(0, ID_HEX_CHARS)}`;
  // Without Cloudflare in front the header is the client's: only address-sized values are kept.
  if (ip.length > MAX_IP_CHARS) return id;
  makeRoomIn(isolate.rateLimiter.ipIdentities, MAX_IP_IDENTITIES);
  isolate.rateLimiter.ipIdentities.set(ip, id);
  return id;
}

// The identities a request counts against. A verified client is itself (auth.js). Any other request is its
// address — and, when it carries credentials nobody verified, that credential as well (issue #14: a junk
// token from one address is limited by the address, F6; one token from many addresses by the token, F15).
// The credential is hashed from its canonical form (credentials.js), so spellings of it are one identity.
export async function identitiesFor(rc, decision) {
  const primary = await clientIdentity(rc.request, rc.authIdentity, (ip) => rc.core.canonicalIp?.(ip));
  if (rc.authIdentity?.sub || rc.authIdentity?.tokenHash) return [primary];
  if ((decision.flags & ABI.DecisionFlag.Credentials) === 0 || !rc.core.credentials) return [primary];
  const material = credentialMaterial(rc.request, rc.url, rc.core.credentials);
  if (!material) return [primary];
  // The same hash auth.js gives a credential, so one the origin accepts later keeps its count.
  return [primary, `token:${(await sha256Hex(`credential:${material}`)).slice(0, ID_HEX_CHARS)}`];
}
