// Renders a conformance summary (scripts/conformance.mjs) as a console table and as Markdown. Pure
// functions of the summary object, so the same figures reach the terminal, the .md file and the docs.
import { KINDS } from "./scoring.mjs";

const cell = ({ passed, total }) => `${passed}/${total}`;

// The columns: edge-cache, then the published shared caches, best required figure first.
function columns(summary) {
  return [{ name: "edge-cache", counts: summary.edgeCache.counts }, ...summary.published];
}

function workerErrorLines(summary) {
  const w = summary.workerErrors;
  const lines = [
    `responses with status 500 made by the worker: ${w.status500}` +
      ` (JSON errors ${w.json500}, runtime error pages ${w.runtime500}); unhandled_exception log lines: ${w.unhandledExceptions}`,
  ];
  const other = Object.entries(w.byStatus).filter(([s]) => s !== "500");
  if (other.length) lines.push(`other worker-made error responses: ${other.map(([s, n]) => `${s}×${n}`).join(", ")}`);
  if (w.testsWith500.length) lines.push(`tests during which the worker made a 500: ${w.testsWith500.join(", ")}`);
  if (w.fetchErrors) lines.push(`requests that got no response at all (connection errors, timeouts): ${w.fetchErrors}`);
  return lines;
}

function scoringLine(summary) {
  const c = summary.scoring;
  if (!c.crossChecked) return "scored by scripts/lib/conformance/scoring.mjs (the suite has no verdict function of its own to compare with)";
  return c.disagreements.length === 0
    ? "scored by scripts/lib/conformance/scoring.mjs; every verdict agrees with the suite's own verdict function"
    : `scored by scripts/lib/conformance/scoring.mjs; ${c.disagreements.length} verdicts DISAGREE with the suite's own verdict function (summary.json lists them)`;
}

function failingCounts(summary) {
  const all = summary.failures.flatMap((s) => s.tests);
  const viaDependency = all.filter((t) => t.verdict === "dependency_fail").length;
  return `${all.length} (${all.length - viaDependency} failing on their own, ${viaDependency} only because a test they depend on failed)`;
}

function browserOnlyLine(summary) {
  const by = (k) => summary.browserOnly.filter((t) => t.kind === k).length;
  return `totals include ${summary.browserOnly.length} browser-only tests that no shared cache runs ` +
    `(${by("required")} required, ${by("optimal")} optimal, ${by("check")} check); they are not listed as failures below`;
}

export function consoleReport(summary) {
  const cols = columns(summary);
  const head = ["kind", ...cols.map((c) => c.name)];
  const rows = KINDS.map((k) => [k, ...cols.map((c) => cell(c.counts[k]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  const out = [];
  out.push(`suite ${summary.suite.source}, ${summary.suite.tests} tests — passed/total per kind, dependencies honoured`);
  out.push(line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), "");
  out.push(browserOnlyLine(summary), scoringLine(summary), "");
  out.push(...workerErrorLines(summary), "");
  out.push(`failing required and optimal tests, by section: ${failingCounts(summary)}`);
  for (const s of summary.failures) {
    out.push("", `${s.name} [${s.file || s.section}]`);
    for (const t of s.tests) {
      out.push(`  ${t.kind === "required" ? "REQ" : "OPT"} ${t.id} — ${t.name}`);
      out.push(`      ${t.verdict}: ${t.detail}`);
      if (t.worker.length) out.push(`      worker: ${t.worker.join(" | ")}`);
    }
  }
  return out.join("\n");
}

const mdEscape = (s) => String(s).replace(/\|/gu, "\\|").replace(/\n/gu, " ");

// The figures table alone, as docs/conformance.md carries it.
export function markdownTable(summary) {
  const cols = columns(summary);
  const out = [];
  out.push(`| kind | ${cols.map((c) => (c.name === "edge-cache" ? "**edge-cache**" : c.version ? `${c.name} ${c.version}` : c.name)).join(" | ")} |`);
  out.push(`| --- | ${cols.map(() => "---:").join(" | ")} |`);
  for (const k of KINDS) out.push(`| ${k} | ${cols.map((c) => (c.name === "edge-cache" ? `**${cell(c.counts[k])}**` : cell(c.counts[k]))).join(" | ")} |`);
  return out.join("\n");
}

export function markdownReport(summary) {
  const m = summary.meta;
  const out = [];
  out.push(`# Conformance run ${m.date}`, "");
  out.push(`Commit \`${m.commit}\`${m.dirty ? " (with uncommitted changes)" : ""}; suite ${summary.suite.source} (${summary.suite.tests} tests); ` +
    `Node ${m.node}, wrangler ${m.wrangler}; suite run ${m.suiteSeconds} s, whole run ${m.totalSeconds} s.`, "");
  out.push("Passed/total per kind, dependencies honoured, as cache-tests.fyi counts.", "");
  out.push(markdownTable(summary), "");
  out.push(`- ${browserOnlyLine(summary)}`, `- ${scoringLine(summary)}`);
  out.push(...workerErrorLines(summary).map((l) => `- ${l}`), "");
  out.push("## Failing required and optimal tests", "", `${failingCounts(summary)}.`, "");
  for (const s of summary.failures) {
    out.push(`### ${s.name} (\`${s.file || s.section}\`)`, "");
    out.push("| kind | test | name | result | the worker's answers |", "| --- | --- | --- | --- | --- |");
    for (const t of s.tests) {
      out.push(`| ${t.kind} | \`${t.id}\` | ${mdEscape(t.name)} | ${mdEscape(`${t.verdict}: ${t.detail}`)} | ${mdEscape(t.worker.join("<br>"))} |`);
    }
    out.push("");
  }
  if (summary.workerErrors.samples.length) {
    out.push("## Worker-made error responses (samples)", "");
    for (const e of summary.workerErrors.samples) out.push(`- ${e.status} ${e.method} ${e.path} (test \`${e.testId}\`): \`${mdEscape(e.body || "")}\``);
    out.push("");
  }
  return out.join("\n");
}
