// js-shim/credentials.js in plain Node: a request's credential material as the rules name it — one spelling
// per credential, only the named cookies, the named query parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { credentialMaterial } from "../../js-shim/credentials.js";

const AUTH_ONLY = { headers: ["authorization"], cookies: null, params: [] };
const req = (headers) => new Request("https://cache.example.com/v1/x", { headers });

test("no credential: empty material", () => {
  assert.equal(credentialMaterial(req({}), "https://cache.example.com/v1/x", AUTH_ONLY), "");
});

test("Authorization's scheme is case-insensitive and its spaces collapse: one credential", () => {
  const a = credentialMaterial(req({ authorization: "Bearer abc" }), "/", AUTH_ONLY);
  const b = credentialMaterial(req({ authorization: "  bearer \t abc  " }), "/", AUTH_ONLY);
  assert.equal(a, "h:authorization=bearer abc");
  assert.equal(b, a);
  // The token itself is case-sensitive.
  assert.notEqual(credentialMaterial(req({ authorization: "Bearer ABC" }), "/", AUTH_ONLY), a);
});

test("other credential headers are trimmed, in the rules' order", () => {
  const creds = { headers: ["x-api-key", "authorization"], cookies: null, params: [] };
  assert.equal(credentialMaterial(req({ "x-api-key": "  k1 ", authorization: "Token t" }), "/", creds), "h:x-api-key=k1\nh:authorization=token t");
});

test("named cookies: only those, sorted, whatever the order and the other cookies", () => {
  const creds = { headers: ["cookie"], cookies: ["sessionid", "csrftoken"], params: [] };
  const a = credentialMaterial(req({ cookie: "theme=dark; sessionid=s1; csrftoken=c1" }), "/", creds);
  const b = credentialMaterial(req({ cookie: "csrftoken=c1;sessionid=s1; theme=light" }), "/", creds);
  assert.equal(a, "c:csrftoken=c1\nc:sessionid=s1");
  assert.equal(b, a);
  assert.equal(credentialMaterial(req({ cookie: "theme=dark" }), "/", creds), "");
});

test("no cookie named: the whole Cookie field is the credential", () => {
  assert.equal(credentialMaterial(req({ cookie: " a=1; b=2 " }), "/", AUTH_ONLY), "c:*=a=1; b=2");
});

test("named query parameters, case-insensitively, without the fragment", () => {
  const creds = { headers: [], cookies: null, params: ["apiKey"] };
  const url = "https://cache.example.com/v1/x?APIKEY=k9&other=1#frag";
  assert.equal(credentialMaterial(req({}), url, creds), "q:apikey=k9");
  assert.equal(credentialMaterial(req({}), "https://cache.example.com/v1/x?other=1", creds), "");
});
