// Generates js-shim/generated/abi_layout.js from src/abi/abi_layout.h, the one place the Wasm/JS
// contract is written. Every `inline constexpr uint32_t kX = N;` becomes `export const kX = N;` and
// every `enum class X : uint32_t { A = N, ... };` becomes a frozen object. Anything else in the header
// that looks like a declaration but cannot be translated fails the build, so the two sides cannot drift.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { translateAbiHeader } from "./lib/abi_translate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const headerPath = join(root, "src/abi/abi_layout.h");
const outPath = join(root, "js-shim/generated/abi_layout.js");

const lines = translateAbiHeader(readFileSync(headerPath, "utf8"));
const body = `// Generated from src/abi/abi_layout.h by scripts/gen-abi-js.mjs. Do not edit.\n${lines.join("\n")}\n`;
mkdirSync(dirname(outPath), { recursive: true });
if (!existsSync(outPath) || readFileSync(outPath, "utf8") !== body) writeFileSync(outPath, body);
