// The ABI constants generator (scripts/gen-abi-js.mjs, its translation in scripts/lib/abi_translate.mjs): the
// generated js-shim/generated/abi_layout.js says exactly what src/abi/abi_layout.h says — checked against the
// header read independently here — a changed layout changes the output, and a declaration the generator
// cannot translate fails instead of being skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { translateAbiHeader } from "../../scripts/lib/abi_translate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const header = readFileSync(join(root, "src/abi/abi_layout.h"), "utf8");
const generatedPath = join(root, "js-shim/generated/abi_layout.js");

// The header's declarations, read line by line (not with the generator's regular expressions).
function declaredInHeader(text) {
  const constants = {};
  const enums = {};
  let open = null;
  for (const raw of text.split("\n")) {
    const line = raw.split("//")[0].trim();
    if (!line) continue;
    const c = line.match(/^inline constexpr uint32_t (k\w+) = (\S+);$/);
    if (c) constants[c[1]] = Number(c[2]);
    const e = line.match(/^enum class (\w+) : uint32_t \{(.*)$/);
    if (e) {
      open = e[1];
      enums[open] = {};
    }
    if (open) {
      const body = e ? e[2] : line;
      for (const part of body.replace(/[{};]/g, "").split(",")) {
        const [name, value] = part.split("=").map((s) => s.trim());
        if (name && value !== undefined) enums[open][name] = Number(value);
      }
      if (line.includes("}")) open = null;
    }
  }
  return { constants, enums };
}

test("the generated module has every constant and enum of abi_layout.h, with the same values, and nothing else", async () => {
  const { constants, enums } = declaredInHeader(header);
  assert.ok(Object.keys(constants).length > 50, "the header was read");
  assert.ok(Object.keys(enums).length > 10);
  const generated = await import(generatedPath);
  const expected = { ...constants, ...enums };
  assert.deepEqual(Object.keys(generated).sort(), Object.keys(expected).sort());
  for (const [name, value] of Object.entries(constants)) assert.equal(generated[name], value, name);
  for (const [name, members] of Object.entries(enums)) {
    assert.deepEqual({ ...generated[name] }, members, name);
    assert.ok(Object.isFrozen(generated[name]), `${name} is frozen`);
  }
});

test("running the generator leaves the checked output as it is (the file is the header's translation)", () => {
  const before = readFileSync(generatedPath, "utf8");
  execFileSync(process.execPath, [join(root, "scripts/gen-abi-js.mjs")]);
  const after = readFileSync(generatedPath, "utf8");
  assert.equal(after, before);
  assert.equal(after, `// Generated from src/abi/abi_layout.h by scripts/gen-abi-js.mjs. Do not edit.\n${translateAbiHeader(header).join("\n")}\n`);
});

test("a changed layout changes the output: a moved offset, a new constant, a new enum member", () => {
  const base = translateAbiHeader(header);
  const moved = translateAbiHeader(header.replace(/inline constexpr uint32_t kScratchBytes = \d+;/, "inline constexpr uint32_t kScratchBytes = 131072;"));
  assert.ok(moved.includes("export const kScratchBytes = 131072;"));
  assert.ok(!base.includes("export const kScratchBytes = 131072;"));
  assert.equal(moved.length, base.length);
  const added = translateAbiHeader(`${header}\ninline constexpr uint32_t kNewField = 0x40;\n`);
  assert.ok(added.includes("export const kNewField = 64;"));
  assert.equal(added.length, base.length + 1);
  const grown = translateAbiHeader(header.replace(/enum class Action : uint32_t \{/, "enum class Action : uint32_t {\n  Teleport = 99,"));
  assert.match(grown.find((l) => l.startsWith("export const Action =")), /Teleport: 99/);
});

test("declarations it cannot translate fail the generation; comments are ignored", () => {
  assert.throws(() => translateAbiHeader("inline constexpr int kSigned = 1;"), /1 declarations but 0 translated/);
  assert.throws(() => translateAbiHeader("enum class Mode : uint32_t { A = 0, B };"), /member "B" needs an explicit value/);
  assert.throws(() => translateAbiHeader("enum class Wide : uint64_t { A = 0 };"), /declarations but 0 translated/);
  assert.deepEqual(translateAbiHeader("// inline constexpr uint32_t kCommented = 1;\ninline constexpr uint32_t kReal = 2; // constexpr in a comment"), ["export const kReal = 2;"]);
});
