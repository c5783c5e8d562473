// The translation of src/abi/abi_layout.h into JS constants (scripts/gen-abi-js.mjs), apart from the script
// so tests/tools/gen_abi_js.test.mjs can run it on any header text without writing the generated file.
// Every `inline constexpr uint32_t kX = N;` becomes `export const kX = N;` and every
// `enum class X : uint32_t { A = N, ... };` a frozen object; any other declaration is an error.
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
