// The options page: the policy editor with the host's diagnostics on the offending lines, shipped policies
// on/off, sensitivity per category, sites, how pending posts look, and how long to wait for images.
// Without a host it shows the policy the in-browser fallback applies (read-only until the host is back) and
// a Retry button; a policy whose rules would be left out is saved only after the reader confirms it.
import { api } from "../shared/browser";
import { DEFAULT_POLICY_SOURCE, FALLBACK_POLICY_KEY, INSTALL_COMMAND } from "../shared/constants";
import type { HostStatus } from "../shared/messages";
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
  $("save-confirm").hidden = true; // the question was about the text before this edit
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

/** The reader asked to save a policy with errors: list them, say which rules would be left out, and save
 * only on "Save anyway". */
function confirmSave(errors: Diagnostic[]): void {
  const box = $("save-confirm");
  const rules = [...new Set(errors.map((d) => d.rule).filter((r): r is string => !!r))];
  const yes = el("button", { id: "save-anyway", type: "button" }, "Save anyway");
  const no = el("button", { id: "save-cancel", type: "button" }, "Keep editing");
  yes.addEventListener("click", () => {
    box.hidden = true;
    void save(true);
  });
  no.addEventListener("click", () => {
    box.hidden = true;
    $("save-result").textContent = "Not saved.";
    if (errors[0]) goToLine(errors[0].line);
  });
  box.replaceChildren(
    el(
      "p",
      { id: "save-confirm-text" },
      rules.length
        ? `This policy has ${errors.length} error(s). Saved as it is, ${rules.length === 1 ? "the rule" : "the rules"} ${rules.map((r) => `"${r}"`).join(", ")} would be left out until you fix it (where an earlier version of a rule loaded, that one stays active):`
        : `This policy has ${errors.length} error(s); what they are about would be left out:`,
    ),
    el("ul", { id: "save-confirm-list" }, ...errors.map((d) => el("li", { "data-line": String(d.line) }, `line ${d.line}:${d.column}${d.rule ? ` (rule "${d.rule}")` : ""}: ${d.message}`))),
    el("p", {}, yes, " ", no),
  );
  box.hidden = false;
  $("save-result").className = "bad";
  $("save-result").textContent = "Not saved yet: see the errors below.";
}

/** Save the editor's policy in the host. Unless `confirmed`, it is checked first: one that cannot be loaded
 * is refused, one whose rules would be left out asks the reader first. */
async function save(confirmed = false): Promise<void> {
  const out = $("save-result");
  out.className = "";
  out.textContent = "Saving…";
  $("save-confirm").hidden = true;
  if (!confirmed) {
    const v = await bg.policyValidate(editor.value);
    if (!v.ok) {
      out.className = "bad";
      out.textContent = `Not saved: the policy cannot be checked (${v.error}).`;
      return;
    }
    diagnostics = v.validation.diagnostics;
    renderDiagnostics();
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (!v.validation.loadable) {
      out.className = "bad";
      out.textContent = `Not saved: the policy cannot be loaded (${errors.length} error(s) below); the active policy is unchanged.`;
      return;
    }
    if (errors.length) return confirmSave(errors);
  }
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

/** No host: show the policy the in-browser fallback applies (the host's last reported policy, or the
 * shipped defaults before the host was ever seen), read-only, with a Retry button. */
async function showWithoutHost(st: HostStatus): Promise<void> {
  $("host-status").textContent = st.message;
  const got = await api.storage.local.get(FALLBACK_POLICY_KEY);
  const stored = got[FALLBACK_POLICY_KEY];
  const known = typeof stored === "string" && stored.trim() !== "";
  editor.value = known ? stored : DEFAULT_POLICY_SOURCE;
  editor.readOnly = true;
  for (const c of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>("#shipped input, #sensitivity select")) c.disabled = true;
  ($("save") as HTMLButtonElement).disabled = true;
  const source = known ? "the policy the host last reported" : "the shipped defaults (the host has not been seen yet)";
  $("policy-source").textContent = st.fallback
    ? `The host is not connected: posts are judged in the browser with ${source}, shown here. Editing and saving need the host.`
    : `The host is not connected, and nothing judges posts until it is back (the in-browser fallback is off or unavailable). Shown here is ${source}.`;
  $("host-help").textContent =
    st.state === "not-installed"
      ? `To install the host, run \`${st.installCommand}\` in a terminal, in the folder where Feedwarden was built (or \`${INSTALL_COMMAND}\` if the feedwarden program is on your PATH), then click Retry.`
      : "Start or repair the host (`feedwarden doctor` says what is wrong), then click Retry.";
  diagnostics = [];
  renderDiagnostics();
  $("diag-summary").textContent = "";
  syncSwitches();
  $("retry").hidden = false;
  document.body.dataset.ready = "no-host";
}

/** Load the policy from the host into the editor (or show what applies without it). */
async function load(): Promise<void> {
  const st = await bg.status();
  $("host-status").textContent = st.message;
  const r = await bg.policyGet();
  if (!r.ok) return showWithoutHost(await bg.status());
  editor.readOnly = false;
  for (const c of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>("#shipped input, #sensitivity select")) c.disabled = false;
  ($("save") as HTMLButtonElement).disabled = false;
  $("retry").hidden = true;
  $("host-help").textContent = "";
  $("policy-source").textContent = `Loaded from the host: ${r.policy.path}`;
  editor.value = r.policy.source;
  diagnostics = r.policy.diagnostics;
  renderDiagnostics();
  syncSwitches();
  document.body.dataset.ready = "1";
}

/** Retry: reconnect to the host, wait until it answers (or gives up), then load again. */
async function retry(): Promise<void> {
  const button = $("retry") as HTMLButtonElement;
  button.disabled = true;
  $("host-status").textContent = "Connecting to the host…";
  let st = await bg.reconnect();
  for (let i = 0; i < 60 && st.state === "connecting"; i++) {
    await new Promise((r) => setTimeout(r, 250));
    st = await bg.status();
  }
  button.disabled = false;
  await load();
}

async function main(): Promise<void> {
  buildSwitches();
  void buildSettings();
  editor.addEventListener("input", scheduleValidate);
  editor.addEventListener("scroll", () => (gutter.scrollTop = editor.scrollTop));
  $("save").addEventListener("click", () => void save());
  $("retry").addEventListener("click", () => void retry());
  renderGutter();
  await load();
}

void main();
