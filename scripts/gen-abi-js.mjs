// Generates js-shim/generated/abi_layout.js from src/abi/abi_layout.h, the one place the Wasm/JS
// contract is written. Every `inline constexpr uint32_t kX = N;` becomes `export const kX = N;` and
// every `enum class X : uint32_t { A = N, ... };` becomes a frozen object. Anything else in the header
// that looks like a declaration but cannot be translated fails the build, so the two sides cannot drift.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const headerPath = join(root, "src/abi/abi_layout.h");
const outPath = join(root, "js-shim/generated/abi_layout.js");

export function translateAbiHeader(text) {
  const stripped = text.replace(/\/\/[^\n]*/g, "");
  const out = [];
  const constRe = /inline\s+constexpr\s+uint32_t\s+(k\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*;/g;
  for (const m of stripped.matchAll(constRe)) out.push(`export const ${m[1]} = ${Number(m[2])};`);
  const enumRe = /enum\s+class\s+(\w+)\s*:\s*uint32_t\s*\{([^}]*)\}\s*;/g;
  for (const m of stripped.matchAll(enumRe)) {
    const members = m[2].split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      const mm = /^(\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)$/.exec(s);
      if (!mm) throw new Error(`abi_layout.h: enum ${m[1]} member "${s}" needs an explicit value`);
      return `${mm[1]}: ${Number(mm[2])}`;
    });
    out.push(`export const ${m[1]} = Object.freeze({ ${members.join(", ")} });`);
  }
  const declared = (stripped.match(/constexpr|enum\s+class/g) || []).length;
  if (declared !== out.length) {
    throw new Error(`abi_layout.h: ${declared} declarations but ${out.length} translated; use only the two supported forms`);
  }
  return out;
}

const lines = translateAbiHeader(readFileSync(headerPath, "utf8"));
const body = `// Generated from src/abi/abi_layout.h by scripts/gen-abi-js.mjs. Do not edit.\n${lines.join("\n")}\n`;
mkdirSync(dirname(outPath), { recursive: true });
if (!existsSync(outPath) || readFileSync(outPath, "utf8") !== body) writeFileSync(outPath, body);
