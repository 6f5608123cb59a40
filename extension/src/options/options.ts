// The options page: the policy editor with the host's diagnostics on the offending lines, shipped policies
// on/off, sensitivity per category, sites, how pending posts look, and how long to wait for images.
import type { Diagnostic } from "../shared/protocol";
import { loadSettings, SITE_IDS, SITE_NAMES, type PendingStyle } from "../shared/settings";
import { bg, el } from "../shared/ui-client";
import { CATEGORIES, readExtends, readSensitivity, SHIPPED, writeExtends, writeSensitivity, type Sensitivity } from "./policy-edit";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("policy");
const gutter = $("gutter");
let diagnostics: Diagnostic[] = [];
let validateTimer: ReturnType<typeof setTimeout> | null = null;

function renderGutter(): void {
  const lines = editor.value.split("\n").length;
  const byLine = new Map<number, Diagnostic[]>();
  for (const d of diagnostics) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  const kids: (Node | string)[] = [];
  for (let i = 1; i <= lines; i++) {
    const ds = byLine.get(i);
    if (ds) {
      const bad = ds.some((d) => d.severity === "error");
      kids.push(el("span", { class: bad ? "bad" : "warn", title: ds.map((d) => d.message).join("\n"), "data-line": String(i) }, String(i)));
    } else kids.push(String(i));
    kids.push("\n");
  }
  gutter.replaceChildren(...kids);
  gutter.scrollTop = editor.scrollTop;
}

function renderDiagnostics(): void {
  const list = $("diagnostics");
  list.replaceChildren(
    ...diagnostics.map((d) => {
      const li = el("li", { class: d.severity, "data-line": String(d.line) }, `line ${d.line}:${d.column} ${d.severity}[${d.code}]: ${d.message}`);
      li.addEventListener("click", () => goToLine(d.line));
      return li;
    }),
  );
  $("diag-summary").textContent = diagnostics.length
    ? `${diagnostics.filter((d) => d.severity === "error").length} error(s), ${diagnostics.filter((d) => d.severity === "warning").length} warning(s)`
    : "No problems.";
  renderGutter();
}

function goToLine(line: number): void {
  const lines = editor.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
}

async function validate(): Promise<void> {
  const r = await bg.policyValidate(editor.value);
  if (r.ok) {
    diagnostics = r.validation.diagnostics;
    renderDiagnostics();
  } else {
    $("diag-summary").textContent = `Cannot check the policy: ${r.error}`;
  }
  syncSwitches();
}

function scheduleValidate(): void {
  if (validateTimer) clearTimeout(validateTimer);
  validateTimer = setTimeout(() => void validate(), 300);
  renderGutter();
}

function syncSwitches(): void {
  const ext = readExtends(editor.value);
  for (const name of SHIPPED) {
    const cb = document.querySelector<HTMLInputElement>(`input[data-shipped="${name}"]`);
    if (cb) cb.checked = ext.includes(name);
  }
  const sens = readSensitivity(editor.value);
  for (const cat of CATEGORIES) {
    const sel = document.querySelector<HTMLSelectElement>(`select[data-category="${cat}"]`);
    if (sel) sel.value = sens[cat] ?? "default";
  }
}

function buildSwitches(): void {
  const shipped = $("shipped");
  for (const name of SHIPPED) {
    const cb = el("input", { type: "checkbox", "data-shipped": name });
    cb.addEventListener("change", () => {
      const cur = readExtends(editor.value).filter((x) => x !== name);
      editor.value = writeExtends(editor.value, cb.checked ? [...cur, name] : cur);
      scheduleValidate();
    });
    shipped.append(el("label", {}, cb, ` ${name}`));
  }
  const sens = $("sensitivity");
  for (const cat of CATEGORIES) {
    const sel = el("select", { "data-category": cat });
    for (const [v, label] of [
      ["default", "as the policy says"],
      ["high", "high (filters more)"],
      ["medium", "medium"],
      ["low", "low (filters less)"],
      ["off", "off"],
    ])
      sel.append(el("option", { value: v }, label));
    sel.addEventListener("change", () => {
      const cur = readSensitivity(editor.value);
      cur[cat] = sel.value as Sensitivity;
      editor.value = writeSensitivity(editor.value, cur);
      scheduleValidate();
    });
    sens.append(el("label", {}, `${cat} `, sel));
  }
}

async function buildSettings(): Promise<void> {
  const s = await loadSettings();
  const sites = $("sites");
  for (const id of SITE_IDS) {
    const cb = el("input", { type: "checkbox", "data-site": id });
    cb.checked = s.sites[id];
    cb.addEventListener("change", () => void bg.settingsSet({ sites: { ...s.sites, [id]: cb.checked } }).then((r) => (s.sites = r.settings.sites)));
    sites.append(el("label", {}, cb, ` ${SITE_NAMES[id]}`));
  }
  const look = $<HTMLSelectElement>("pending-style");
  look.value = s.pendingStyle;
  look.addEventListener("change", () => void bg.settingsSet({ pendingStyle: look.value as PendingStyle }));
  const timeout = $<HTMLInputElement>("pending-timeout");
  timeout.value = String(s.pendingTimeoutMs);
  timeout.addEventListener("change", () => void bg.settingsSet({ pendingTimeoutMs: Number(timeout.value) }));
  const budget = $<HTMLInputElement>("image-budget");
  budget.value = s.imageBudgetMs === null ? "" : String(s.imageBudgetMs);
  budget.addEventListener("change", () => void bg.settingsSet({ imageBudgetMs: budget.value.trim() === "" ? null : Math.round(Number(budget.value)) }));
  const fallback = $<HTMLInputElement>("fallback");
  fallback.checked = s.fallback;
  fallback.addEventListener("change", () => void bg.settingsSet({ fallback: fallback.checked }));
}

async function save(): Promise<void> {
  const out = $("save-result");
  out.className = "";
  out.textContent = "Saving…";
  const r = await bg.policySet(editor.value);
  if (!r.ok) {
    out.className = "bad";
    out.textContent = `Not saved: ${r.error}`;
    return;
  }
  diagnostics = r.policy.diagnostics;
  renderDiagnostics();
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  out.className = r.policy.applied && !errors ? "ok" : "bad";
  out.textContent = !r.policy.applied
    ? "Not applied: the file cannot be loaded (see the problems below); the last good policy stays active."
    : errors
      ? `Saved and applied; rules with errors are left out (the last good version of each stays active). ${r.policy.rules.length} rules active.`
      : `Saved and applied: ${r.policy.rules.length} rules active.`;
}

async function main(): Promise<void> {
  buildSwitches();
  void buildSettings();
  editor.addEventListener("input", scheduleValidate);
  editor.addEventListener("scroll", () => (gutter.scrollTop = editor.scrollTop));
  $("save").addEventListener("click", () => void save());
  const st = await bg.status();
  $("host-status").textContent = st.message;
  const r = await bg.policyGet();
  if (!r.ok) {
    $("diag-summary").textContent = `The policy cannot be loaded from the host: ${r.error}`;
    return;
  }
  editor.value = r.policy.source;
  diagnostics = r.policy.diagnostics;
  renderDiagnostics();
  syncSwitches();
  document.body.dataset.ready = "1";
}

void main();
