// The shim's side of MOUNT_PATH and the loop guard, in plain Node (js-shim/mount.js and loop_guard.js do not load
// the core): the hop tag, the hop field an origin fetch carries, the arrival check, and what the worker answers for
// a mount while the core is unavailable. tests/integration/mount.test.mjs runs the same code in workerd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOP_HEADER, LOOP_HEADER, hopFor, hopTag, isOwnLoopAnswer, ownSubrequestResponse, selfFetchProblem } from "../../js-shim/loop_guard.js";
import { mountPrefix, mountRejectionMessage, unmountedAnswer } from "../../js-shim/mount.js";

const cfgOf = (backend, mountPath = "") => Object.freeze({ backendUrl: backend ? new URL(backend) : null, mountPath, version: "t", environment: "test" });

test("the hop tag: 16 hex digits, one per BACKEND_URL and MOUNT_PATH, the same for equal configurations", () => {
  const a = hopTag(cfgOf("https://api.example.com", "/cache"));
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.equal(hopTag(cfgOf("https://api.example.com", "/cache")), a, "every isolate of a deployment computes the same tag");
  const others = [cfgOf("https://api.example.com"), cfgOf("https://api.example.com/cache", "/cache"), cfgOf("https://dev.example.com", "/cache"), cfgOf(null, "/cache")];
  const tags = new Set([a, ...others.map(hopTag)]);
  assert.equal(tags.size, 5);
  // The tag names neither the backend nor the mount.
  for (const cfg of others) assert.doesNotMatch(hopTag(cfg), /example|cache/);
});

test("an origin fetch carries the hops so far (well-formed tags only, at most 8) and this deployment's tag last", () => {
  const cfg = cfgOf("https://api.example.com", "/cache");
  const tag = hopTag(cfg);
  const req = (value) => new Request("https://api.example.com/cache/x", value === undefined ? {} : { headers: { [HOP_HEADER]: value } });
  assert.deepEqual(hopFor(req(), cfg), { value: tag, tag });
  assert.equal(hopFor(req("0123456789abcdef"), cfg).value, `0123456789abcdef, ${tag}`);
  assert.equal(hopFor(req("junk, 0123456789ABCDEF, 0123456789abcdef0, <x>"), cfg).value, tag);
  const many = Array.from({ length: 12 }, (_, i) => i.toString(16).padStart(16, "a")).join(",");
  assert.equal(hopFor(req(many), cfg).value.split(", ").length, 9);
});

test("a request carrying this deployment's tag is answered 508 JSON at once; any other request is not", async () => {
  const cfg = cfgOf("https://api.example.com", "/cache");
  const tag = hopTag(cfg);
  assert.equal(ownSubrequestResponse(new Request("https://api.example.com/cache/x"), cfg), null);
  assert.equal(ownSubrequestResponse(new Request("https://x.test/", { headers: { [HOP_HEADER]: "0123456789abcdef" } }), cfg), null);
  const res = ownSubrequestResponse(new Request("https://x.test/", { headers: { [HOP_HEADER]: `0123456789abcdef, ${tag}` } }), cfg);
  assert.equal(res.status, 508);
  assert.equal(res.headers.get(LOOP_HEADER), tag);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.equal(body.error, "loop_detected");
  assert.equal(body.status, 508);
  // The fetching side recognises exactly that answer.
  assert.equal(isOwnLoopAnswer(res, { tag }), true);
  assert.equal(isOwnLoopAnswer(new Response("", { status: 508, headers: { [LOOP_HEADER]: "0123456789abcdef" } }), { tag }), false);
  assert.equal(isOwnLoopAnswer(new Response("", { status: 502, headers: { [LOOP_HEADER]: tag } }), { tag }), false);
});

test("BACKEND_URL under the mount is a problem on the backend's own host only", () => {
  const report = { mount: { path: "/cache", backendUnderMount: true } };
  const cfg = cfgOf("https://api.example.com/cache/api", "/cache");
  assert.match(selfFetchProblem(report, cfg, "https://api.example.com/cache/v1/x"), /under this worker's own mount \(\/cache\) on this host/);
  assert.match(selfFetchProblem(report, cfg, "https://API.example.com:443/cache/v1/x") ?? "", /on this host/, "hosts compared as URLs serialise them");
  assert.equal(selfFetchProblem(report, cfg, "https://api.example.com:8443/cache/v1/x"), null, "another port is another host");
  assert.equal(selfFetchProblem(report, cfg, "https://cache.example.com/cache/v1/x"), null);
  assert.equal(selfFetchProblem({ mount: { path: "/cache", backendUnderMount: false } }, cfg, "https://api.example.com/cache/x"), null);
  assert.equal(selfFetchProblem({ reasons: [] }, cfg, "https://api.example.com/cache/x"), null, "no report (core unavailable)");
});

test("mount helpers: the prefix for the worker's own requests, rejection wording, and answers without the core", () => {
  assert.equal(mountPrefix({ mount: { path: "/cache" } }), "/cache");
  assert.equal(mountPrefix({ mount: { path: "/" } }), "");
  assert.equal(mountPrefix({}), "");
  const report = { mount: { path: "/cache", problem: 'MOUNT_PATH "x" must start with "/"' } };
  assert.match(mountRejectionMessage(report, "mount:outside-prefix"), /this worker answers \/cache and the paths below it/);
  assert.match(mountRejectionMessage(report, "mount:invalid"), /MOUNT_PATH "x" must start with/);
  assert.equal(mountRejectionMessage(report, "url:fragment"), null);
  assert.equal(unmountedAnswer(cfgOf(null, ""), "/v1/x"), null);
  assert.equal(unmountedAnswer(cfgOf(null, "/"), "/health"), null);
  assert.equal(unmountedAnswer(cfgOf(null, "/cache"), "/cache/health"), "health");
  assert.equal(unmountedAnswer(cfgOf(null, "/cache"), "/health"), "refuse");
  assert.equal(unmountedAnswer(cfgOf(null, "/cache"), "/cache/v1/x"), "refuse");
});
