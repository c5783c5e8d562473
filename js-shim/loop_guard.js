// Keeps the worker from fetching from itself (docs/deploying.md, "Loops"). Cloudflare runs a Worker again for its
// own subrequest when BACKEND_URL names one of its Custom Domains, its workers.dev URL or a route on another zone,
// and stops the recursion only at 16 nested invocations, with an error 1019 page; a route on the fetch's own zone
// is never re-entered. So the worker checks for itself, twice:
//   - before a fetch: BACKEND_URL's path under MOUNT_PATH on the host being served is a configuration that can
//     only fetch from the worker's own mount (the core says whether the paths overlap, the request says the host);
//     such requests get a 503 and /health names the problem;
//   - on arrival: every origin fetch carries x-edge-cache-hop, the tags of the edge-cache deployments it has
//     passed; a request carrying this deployment's own tag is its own fetch come back, answered 508 at once (with
//     x-edge-cache-loop naming the tag), and the fetch that sent it reports the loop (508) instead of recursing.
// The tag is a hash of BACKEND_URL and MOUNT_PATH: the same in every isolate and version of a deployment, different
// for two deployments chained on purpose (one's BACKEND_URL is the other's address, so theirs differ). It says
// nothing the origin does not know. A client that sends a deployment's tag only gets a 508 for its own request.
import { jsonError, logEvent } from "./responses.js";
import { isolate } from "./isolate_context.js";

export const HOP_HEADER = "x-edge-cache-hop";
export const LOOP_HEADER = "x-edge-cache-loop";
// Tags kept from an incoming x-edge-cache-hop (client input: anything but well-formed tags is dropped).
const MAX_HOPS = 8;
const TAG = /^[0-9a-f]{16}$/;

// FNV-1a, 64 bits: stable and cheap; the tag needs to tell deployments apart, not to keep a secret.
function fnv1a64Hex(text) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

// Computed once per config (isolate.hopTags).
export function hopTag(cfg) {
  let tag = isolate.hopTags.get(cfg);
  if (tag === undefined) {
    tag = fnv1a64Hex(`edge-cache|${cfg.backendUrl ? cfg.backendUrl.href : ""}|${cfg.mountPath}`);
    isolate.hopTags.set(cfg, tag);
  }
  return tag;
}

function incomingHops(request) {
  const raw = request.headers.get(HOP_HEADER);
  if (!raw) return [];
  return raw.split(",").map((t) => t.trim()).filter((t) => TAG.test(t)).slice(-MAX_HOPS);
}

// The answer to a request that is this deployment's own origin fetch, or null for any other request.
export function ownSubrequestResponse(request, cfg) {
  const tag = hopTag(cfg);
  if (!incomingHops(request).includes(tag)) return null;
  logEvent("error", "loop_detected", { side: "arrival", method: request.method });
  return jsonError(508, "this request is the worker's own origin fetch come back (x-edge-cache-hop): BACKEND_URL leads to this worker; the loop is stopped here", cfg, { [LOOP_HEADER]: tag });
}

// What an origin fetch carries: the hops so far and this deployment's tag, and the tag to recognise a loop by.
export function hopFor(request, cfg) {
  const tag = hopTag(cfg);
  const hops = incomingHops(request).filter((t) => t !== tag);
  hops.push(tag);
  return { value: hops.join(", "), tag };
}

// The origin's answer is this deployment's own arrival-side 508: the fetch went to the worker itself.
// When it last happened is isolate.lastLoopAt.
export function isOwnLoopAnswer(response, hop) {
  if (response.status !== 508 || response.headers.get(LOOP_HEADER) !== hop.tag) return false;
  isolate.lastLoopAt = new Date().toISOString();
  logEvent("error", "loop_detected", { side: "origin-fetch" });
  return true;
}

// Why this host cannot be served, or null: BACKEND_URL's path is under MOUNT_PATH (the core's report) and
// BACKEND_URL is on the host the request addressed (Cloudflare ignores a custom port on subrequests, so the port is
// compared only as the URLs spell it). `report` is the core's configure report.
export function selfFetchProblem(report, cfg, requestUrl) {
  if (!report?.mount?.backendUnderMount || !cfg.backendUrl) return null;
  if (new URL(requestUrl).host !== cfg.backendUrl.host) return null;
  return `BACKEND_URL lies under this worker's own mount (${report.mount.path}) on this host: every origin fetch would come back to the worker; point BACKEND_URL at the origin's own path`;
}

// When this isolate last stopped a loop on the fetching side (an ISO time), or null.
export function lastLoopStopped() {
  return isolate.lastLoopAt;
}
