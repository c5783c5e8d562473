// The one owner of the core's instance in this isolate: it instantiates the module (at start-up, and again
// after a trap), configures it from env, and guards every export so that a trap (WebAssembly.RuntimeError)
// drops the instance — after a trap the stack pointer is not reset, so the old instance must not be trusted —
// and the next call builds a fresh one. What crosses the ABI is encoded and decoded by the codecs
// (core/*_codec.js), installed here as the instance's methods.
import compiledCore from "../generated/edge_cache.wasm";
import * as ABI from "../generated/abi_layout.js";
import { configFromEnv, configKey } from "./config.js";
import { entryCodec } from "./entry_codec.js";
import { CoreError } from "./errors.js";
import { invalidationCodec } from "./invalidation_codec.js";
import { keyCodec } from "./key_codec.js";
import { memoryAccess } from "./memory.js";
import { requestCodec, requestHeaderPlans } from "./request_codec.js";
import { responseCodec } from "./response_codec.js";
import { upstreamCodec } from "./upstream_codec.js";
import { makeImports } from "./wasi_imports.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Instantiates the module and runs the reactor's _initialize (static constructors). Cheap (~15 ms), and
// independent of configuration, so the first instance is built at module scope, during start-up.
function instantiate(module) {
  let memory;
  const instance = new WebAssembly.Instance(module, makeImports(() => memory));
  memory = instance.exports.memory;
  if (typeof instance.exports._initialize === "function") instance.exports._initialize();
  return instance;
}

// Every call into the module goes through one of these wrappers: a trap (WebAssembly.RuntimeError) in any export
// marks the instance broken — after a trap its stack pointer and heap may be anything — so getCore builds a fresh
// one for the next call, and the trap is counted and logged once. The error is rethrown: worker.js answers the
// request again with a fresh core, then without one (isCoreTrap). Fixed arity, not rest parameters: this runs a
// few times per request on the hit path. (No export takes more than 8 arguments.)
function guardExports(raw, owner) {
  const guarded = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== "function") {
      guarded[name] = value;
      continue;
    }
    const inject = injectedTraps.get(name);
    guarded[name] = (a, b, c, d, e, f, g, h) => {
      try {
        // A request holding an instance that trapped meanwhile gets no more answers from it.
        if (owner.trapped) throw new WebAssembly.RuntimeError(`core instance trapped earlier (${name} not called)`);
        if (inject !== undefined && inject.left > 0) {
          inject.left--;
          throw new WebAssembly.RuntimeError(`injected trap in ${name} (test)`);
        }
        return value(a, b, c, d, e, f, g, h);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) owner.markTrapped(name, err);
        throw err;
      }
    };
  }
  return guarded;
}

// Test hook: the next `count` calls of export `name` trap, in instances built from now on (tests/integration:
// a trap in every export is survived). Empty in production: guardExports reads it once per instance.
const injectedTraps = new Map();
export function _injectTrapForTests(name, count = 1) {
  injectedTraps.set(name, { left: count });
  current = null;
}

// Whether an error is the core trapping (the instance is already dropped).
export function isCoreTrap(err) {
  return err instanceof WebAssembly.RuntimeError;
}

// One instantiated, configured core.
class CoreInstance {
  constructor(instance, config) {
    this.trapped = false;
    this.exports = guardExports(instance.exports, this);
    this.memory = this.exports.memory;
    const version = this.exports.ec_abi_version();
    if (version !== ABI.kAbiVersion) throw new CoreError(`core ABI ${version}, shim expects ${ABI.kAbiVersion}`);
    this.scratch = this.exports.ec_scratch_ptr();
    this.result = this.exports.ec_result_ptr();
    this.buffer = null;
    this.refreshViews();

    this.exports.ec_set_max_body_bytes(config.maxBodyBytes >>> 0);
    const configBytes = encoder.encode(JSON.stringify({
      originBase: config.originBase, shards: config.shards, rules: config.rules || null,
      authExemptPaths: config.authExemptPaths, authMode: config.authMode, rateLimit: config.rateLimit,
      mountPath: config.mountPath, originPath: config.originPath,
      originUrls: config.originUrls, secretsPresent: config.secretsPresent,
    }));
    const ptr = this.exports.ec_alloc(configBytes.length);
    this.refreshViews();
    this.u8.set(configBytes, ptr);
    this.configureStatus = this.exports.ec_configure(ptr, configBytes.length);
    this.exports.ec_free(ptr);
    if (this.configureStatus === ABI.ConfigureStatus.Fatal) throw new CoreError("the embedded rules are invalid");
    this.report = this.readReport();
    const plans = requestHeaderPlans(this.report);
    this.requestHeaderNames = plans.names;
    this.headerReads = plans.headerReads;
    this.preflightHeaderReads = plans.preflightHeaderReads;
    this.credentials = plans.credentials;
    this.forwarding = this.report.forwarding;
    this.maxHeaderBytes = this.report.limits?.maxHeaderBytes ?? 16384;
    // The rules' upstream APIs (src/upstream_setup.h): names, URLs in force, where each secret goes, quotas.
    this.upstreams = this.report.upstreams?.origins || [];
  }

  markTrapped(exportName, err) {
    if (this.trapped) return;
    this.trapped = true;
    traps++;
    if (current === this) current = null;
    console.error(JSON.stringify({ level: "error", event: "core_trap", export: exportName, message: String(err.message) }));
  }

  readReport() {
    const len = this.exports.ec_report();
    this.refreshViews();
    return JSON.parse(decoder.decode(this.u8.subarray(this.result, this.result + len)));
  }
}

// The codecs become methods of CoreInstance, defined as class methods are (not enumerable), once at load: a
// call such as core.decideRequest(...) is one prototype method call, as when they were written in the class.
// Two codecs defining the same name would be a bug: refused at load.
for (const codec of [memoryAccess, requestCodec, responseCodec, entryCodec, keyCodec, invalidationCodec, upstreamCodec]) {
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(codec))) {
    if (Object.hasOwn(CoreInstance.prototype, name)) throw new Error(`core/instance.js: two definitions of CoreInstance.${name}`);
    Object.defineProperty(CoreInstance.prototype, name, { ...descriptor, enumerable: false });
  }
}

// ---- the per-isolate owner ------------------------------------------------------------------------
// Built at start-up so the first request does not pay for it; configured by the first request (the
// configuration comes from env). A failure here must not stop the worker from loading: it is retried
// on first use, where the handler degrades to a plain proxy if the core cannot run.
let startupInstance = null;
try {
  startupInstance = instantiate(compiledCore);
} catch (err) {
  console.error(JSON.stringify({ level: "error", event: "core_startup_failed", message: String(err?.message || err) }));
}
let current = null;
let currentConfigKey = "";
let instantiations = 0;
let traps = 0;

// The core for this isolate, built on first use. A different configuration (tests run several
// environments in one process) builds a new one.
// The configuration is derived once per env object: this runs on every request (the hot path).
const configsByEnv = new WeakMap();

export function getCore(env) {
  let derived = configsByEnv.get(env);
  if (!derived) {
    const config = configFromEnv(env);
    derived = { config, key: configKey(config) };
    configsByEnv.set(env, derived);
  }
  if (current && derived.key === currentConfigKey) return current;
  const { config, key } = derived;
  const instance = startupInstance || instantiate(compiledCore);
  startupInstance = null;
  current = new CoreInstance(instance, config);
  currentConfigKey = key;
  instantiations++;
  if (current.configureStatus === ABI.ConfigureStatus.RulesOverrideInvalid) {
    // Logged once per instance, not per request.
    console.error(JSON.stringify({ level: "error", event: "rules_override_invalid", problems: current.report.rules.problems }));
  }
  return current;
}

// Runs fn(core). A trap in any call has already dropped the instance (guardExports): the next call re-instantiates.
export function withCore(env, fn) {
  return fn(getCore(env));
}

export function coreStats() {
  return { instantiations, traps, live: current !== null, wasmMemoryBytes: current ? current.memory.buffer.byteLength : 0 };
}

// Test hook: lets a test prove re-instantiation after a trap.
export function _dropCoreForTests() {
  current = null;
}
