// Baseline "floor": what a worker costs when it does nothing — a constant 2 KB JSON body with the
// same headers as the project's memory-tier hit, no fetch, no cache, no Wasm. Whatever the project
// spends per request above this is the price of its decisions and its tiers. The header set follows the
// project's hit: since issue #13 a hit keeps the origin's fields (Date, and the demo origin's
// x-origin-request-count), and since #17/#20 it says what browsers and Workers Cache may keep.
const ITEMS = [];
const doc = () => JSON.stringify({ ticker: "AAPL", status: "OK", results: ITEMS });
for (let i = 0; doc().length < 2048 - 80; i++) ITEMS.push({ v: 1000 + i, o: 180.25, c: 181.5, t: 1704067200000 + i * 86400000 });
const BODY = new TextEncoder().encode(doc().padEnd(2048, " ")); // exactly 2048 bytes of valid JSON

export default {
  fetch(request, env) {
    return new Response(BODY, {
      status: 200,
      headers: {
        "age": "0",
        "cache-age": "0",
        "cache-control": "no-cache",
        "cache-status": "HIT",
        "cloudflare-cdn-cache-control": "no-store",
        "content-type": "application/json",
        "date": "Mon, 11 Nov 2024 07:46:39 GMT",
        "etag": '"e29c2d37922b5a555f1e0e7c"',
        "last-modified": "Mon, 11 Nov 2024 07:46:39 GMT",
        "x-cache-tier": "memory",
        "x-origin-request-count": "1",
        "x-worker-environment": env.ENVIRONMENT,
        "x-worker-version": env.VERSION,
      },
    });
  },
};
