// The ABI's bounds checks (src/abi/wasm_exports.cpp), against the built module in Node's own WebAssembly (no
// workerd needed, but the module must be built, as for every test in this folder): a (pointer, length) the
// shim passes that leaves linear memory, or a length in the scratch region that runs past it, is refused with
// the export's documented error — never a trap, never a read outside the buffer.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./harness.mjs";
import * as ABI from "../../js-shim/generated/abi_layout.js";

const ENVELOPE_TRUNCATED = 1; // EnvelopeError::Truncated (src/entry_envelope.h)
const INTERIM_NO_FINAL_RESPONSE = 1; // InterimError::NoFinalResponse (src/interim_response.h)

let ex;
let mem;
let scratch;
before(async () => {
  const bytes = readFileSync(join(root, "js-shim/generated/edge_cache.wasm"));
  let memory;
  const ENOSYS = 52;
  const wasi = {
    fd_write: (fd, iovs, n, nwritten) => { new DataView(memory.buffer).setUint32(nwritten, 0, true); return 0; },
    fd_seek: () => ENOSYS, fd_close: () => ENOSYS, fd_fdstat_get: () => ENOSYS, proc_exit: () => { throw new Error("proc_exit"); },
  };
  const { instance } = await WebAssembly.instantiate(bytes, { wasi_snapshot_preview1: wasi, env: { emscripten_notify_memory_growth() {} } });
  ex = instance.exports;
  memory = ex.memory;
  ex._initialize?.();
  assert.equal(ex.ec_abi_version(), ABI.kAbiVersion);
  const config = new TextEncoder().encode(JSON.stringify({ originBase: "https://origin.test", shards: 4 }));
  const ptr = ex.ec_alloc(config.length);
  new Uint8Array(ex.memory.buffer).set(config, ptr);
  assert.notEqual(ex.ec_configure(ptr, config.length), ABI.ConfigureStatus.Fatal);
  ex.ec_free(ptr);
  scratch = ex.ec_scratch_ptr();
});

const memoryBytes = () => ex.memory.buffer.byteLength;
const view = () => new DataView(ex.memory.buffer);
const setU32 = (offset, v) => view().setUint32(scratch + offset, v >>> 0, true);
const clearScratch = () => new Uint8Array(ex.memory.buffer, scratch, ABI.kScratchBytes).fill(0);

// (pointer, length) pairs that leave linear memory: past its end, straddling it, and wrapping 32 bits.
const outside = () => [
  [memoryBytes(), 1],
  [memoryBytes() - 4, 8],
  [0xfffffff0, 0x20],
  [16, 0xffffffff],
];

test("pointer exports refuse a (pointer, length) outside linear memory", () => {
  for (const [ptr, len] of outside()) {
    const what = `(${ptr}, ${len})`;
    assert.equal(ex.ec_decode_entry(ptr, len), ENVELOPE_TRUNCATED, `decode_entry ${what}`);
    assert.equal(ex.ec_parse_interim(ptr, len), INTERIM_NO_FINAL_RESPONSE, `parse_interim ${what}`);
    assert.equal(ex.ec_encode_entry(ptr, len), 0, `encode_entry ${what}`);
    assert.equal(ex.ec_upstream_response_error(ptr, len), 0, `upstream_response_error ${what}`);
  }
  // The module is still configured and answering: configure itself refuses such a pair as Fatal without
  // touching the configuration in force.
  assert.equal(ex.ec_configure(memoryBytes(), 1), ABI.ConfigureStatus.Fatal);
});

test("a (pointer, length) inside memory is read: the same exports answer for real bytes", () => {
  const bytes = new TextEncoder().encode("not an envelope at all");
  const ptr = ex.ec_alloc(bytes.length);
  new Uint8Array(ex.memory.buffer).set(bytes, ptr);
  // Read, and rejected for what the bytes are (bad magic), not for where they are.
  assert.notEqual(ex.ec_decode_entry(ptr, bytes.length), ENVELOPE_TRUNCATED);
  assert.notEqual(ex.ec_decode_entry(ptr, bytes.length), 0);
  ex.ec_free(ptr);
});

test("a request whose URL length runs past the scratch region is rejected (400), not read", () => {
  for (const urlLength of [ABI.kScratchBytes, ABI.kScratchBytes - ABI.kReqStrings + 1, 0xffffffff]) {
    clearScratch();
    view().setFloat64(scratch + ABI.kReqNowMs, Date.now(), true);
    setU32(ABI.kReqMethod, ABI.Method.Get);
    setU32(ABI.kReqUrlLength, urlLength);
    ex.ec_decide_request();
    const result = ex.ec_result_ptr();
    assert.equal(view().getUint32(result + ABI.kDecAction, true), ABI.Action.Reject, `url length ${urlLength}`);
    assert.equal(view().getUint32(result + ABI.kDecHttpStatus, true), 400, `url length ${urlLength}`);
  }
  // Header lengths that overrun the region after a valid URL are refused the same way.
  clearScratch();
  view().setFloat64(scratch + ABI.kReqNowMs, Date.now(), true);
  setU32(ABI.kReqMethod, ABI.Method.Get);
  const url = new TextEncoder().encode("/v1/x");
  setU32(ABI.kReqUrlLength, url.length);
  new Uint8Array(ex.memory.buffer).set(url, scratch + ABI.kReqStrings);
  for (let slot = 0; slot < 2; slot++) setU32(ABI.kReqHeaderLengths + 4 * slot, 0x7fffffff);
  setU32(ABI.kReqHeaderSlots, 0xffffffff);
  ex.ec_decide_request();
  assert.equal(view().getUint32(ex.ec_result_ptr() + ABI.kDecAction, true), ABI.Action.Reject);
});

test("a well-formed request in the same region is decided, so the rejections above are the bounds checks", () => {
  clearScratch();
  view().setFloat64(scratch + ABI.kReqNowMs, Date.now(), true);
  setU32(ABI.kReqMethod, ABI.Method.Get);
  const url = new TextEncoder().encode("/v1/reference/tickers/types");
  setU32(ABI.kReqUrlLength, url.length);
  new Uint8Array(ex.memory.buffer).set(url, scratch + ABI.kReqStrings);
  ex.ec_decide_request();
  assert.notEqual(view().getUint32(ex.ec_result_ptr() + ABI.kDecAction, true), ABI.Action.Reject);
});

test("scratch-length exports clamp to the region; field and string counts past it are refused", () => {
  // Key lengths beyond the scratch region are cut to it: an answer, not a read past the buffer.
  assert.ok(ex.ec_shard_for_key(0xffffffff) < 4);
  assert.equal(ex.ec_shard_for_key(0xffffffff), ex.ec_shard_for_key(ABI.kScratchBytes));
  assert.equal(typeof ex.ec_key_tag(0xffffffff), "number");
  assert.equal(typeof ex.ec_canonical_ip(0xffffffff), "number");
  // 304 merge: more fields than the region can hold.
  clearScratch();
  setU32(ABI.kNmStoredCount, 0xffffffff);
  assert.equal(ex.ec_merge_not_modified(), ABI.NotModifiedMatch.Invalid);
  clearScratch();
  setU32(ABI.kNmStoredCount, 0);
  setU32(ABI.kNmNotModifiedCount, 100_000);
  assert.equal(ex.ec_merge_not_modified(), ABI.NotModifiedMatch.Invalid);
  // JWT check: a token length past the region.
  clearScratch();
  setU32(ABI.kJwtTokenLength, ABI.kScratchBytes);
  assert.equal(ex.ec_check_jwt(), ABI.JwtCode.TooLarge);
  // Entry encode: a string count beyond the envelope's limits.
  clearScratch();
  setU32(ABI.kEncStringCount, 0xffffffff);
  const body = ex.ec_alloc(1);
  assert.equal(ex.ec_encode_entry(body, 1), 0);
  ex.ec_free(body);
});
