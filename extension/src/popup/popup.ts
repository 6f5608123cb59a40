// The toolbar popup: is the host there (models that run, CPU/GPU, latency), what was filtered today (each
// post once, with the list of filtered posts to open), pause.
import { api } from "../shared/browser";
import { INSTALL_COMMAND } from "../shared/constants";
import type { HostStatus } from "../shared/messages";
import type { HelloReply, ModelInfo } from "../shared/protocol";
import { loadSettings } from "../shared/settings";
import { parseLog, summarize, TODAY_LOG_KEY, SNIPPET_CHARS, type FilteredEntry } from "../shared/today-log";
import { bg, el } from "../shared/ui-client";

const $ = (id: string) => document.getElementById(id)!;

/** The models the host runs ("id (provider)"), and those it lists but does not run now: not installed or
 * failed (`provider: null` with an `error`), or installed and loaded only when a rule needs it. */
function modelLines(h: HelloReply): { running: string; notRunning: string } {
  const runs = (m: ModelInfo) => typeof m.provider === "string" && !m.error;
  const why = (m: ModelInfo) => (m.error ? "not installed or failed to load" : m.loaded === false ? "installed, loaded when a rule needs it" : "not loaded");
  return {
    running: h.models.filter(runs).map((m) => `${m.id} (${m.provider})`).join(", ") || "none",
    notRunning: h.models.filter((m) => !runs(m)).map((m) => `${m.id} (${why(m)})`).join(", "),
  };
}

function installHelp(s: HostStatus): Node[] {
  return [
    // The status line already says when the browser judges meanwhile (the fallback).
    el("p", {}, s.fallback ? "" : "Posts are shown unfiltered until the host is installed. ", "To install it, run in a terminal, in the folder where Feedwarden was built:"),
    el("pre", { id: "install-command" }, s.installCommand),
    el("p", { class: "small" }, "(or ", el("code", {}, INSTALL_COMMAND), " if the feedwarden program is on your PATH), then click Retry."),
  ];
}

function renderStatus(s: HostStatus): void {
  const box = $("status");
  box.dataset.state = s.state;
  box.replaceChildren(el("span", { class: `dot ${s.state}` }), el("span", { id: "status-text" }, s.message));
  const help = $("help");
  help.replaceChildren();
  if (s.state === "not-installed" || s.state === "model-unavailable" || s.state === "disconnected" || s.state === "error") {
    if (s.state === "not-installed") help.append(...installHelp(s));
    const retry = el("button", { id: "retry", type: "button" }, "Retry");
    retry.addEventListener("click", async () => renderStatus(await bg.reconnect()));
    help.append(retry);
  }
  const h = s.hello;
  const rows: [string, string][] = [];
  if (h) {
    const models = modelLines(h);
    rows.push(["Host", `${h.host} ${h.version}`]);
    rows.push(["Runs on", h.provider]);
    rows.push(["Models", models.running]);
    if (models.notRunning) rows.push(["Not running", models.notRunning]);
    rows.push(["Policy", `${h.policy.name} (${h.policy.rules} rules)`]);
  }
  if (s.latency) rows.push(["Latency", `p50 ${s.latency.p50.toFixed(0)} ms · p95 ${s.latency.p95.toFixed(0)} ms (${s.latency.n} batches)`]);
  $("host").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", { "data-key": k }, v))));
}

/** With at most this many filtered posts, every group starts open. */
const OPEN_UP_TO = 20;
const ACTION_WORD: Record<string, string> = { hide: "Hidden", blur: "Blurred", label: "Labelled" };

function filteredItem(f: FilteredEntry): HTMLElement {
  const li = el(
    "li",
    { class: "filtered-post", "data-action": f.action },
    el("span", { class: `action ${f.action}` }, ACTION_WORD[f.action] ?? f.action),
    " ",
    el("q", { class: "snippet" }, f.snippet || "(no text)"),
    el("div", { class: "small reason" }, f.reason),
  );
  if (f.url) {
    const a = el("a", { href: f.url, target: "_blank", rel: "noreferrer noopener", class: "open-post" }, "Open post");
    li.querySelector(".reason")!.append(" · ", a);
  }
  return li;
}

/** The filtered posts grouped by site, then category (rule), the largest groups first. */
function filteredList(entries: FilteredEntry[]): HTMLElement {
  const groups = new Map<string, FilteredEntry[]>();
  for (const f of [...entries].reverse()) {
    const k = `${f.site}\u0001${f.rule}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length);
  return el(
    "div",
    { id: "filtered" },
    ...sorted.map(([k, list]) => {
      const [site, rule] = k.split("\u0001");
      return el(
        "details",
        { "data-site": site, "data-rule": rule, ...(entries.length <= OPEN_UP_TO ? { open: "" } : {}) },
        el("summary", {}, `${site} · ${rule} (${list.length})`),
        el("ul", {}, ...list.map(filteredItem)),
      );
    }),
  );
}

async function renderToday(): Promise<void> {
  const got = await api.storage.local.get(TODAY_LOG_KEY);
  const t = summarize(parseLog(got[TODAY_LOG_KEY]));
  const box = $("today");
  const kids: Node[] = [el("p", { id: "today-summary" }, `${t.filtered} filtered of ${t.judged} judged today`)];
  const counts = (m: Map<string, number>, id: string) =>
    el("ul", { id }, ...[...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => el("li", {}, `${k}: ${n}`)));
  if (t.byRule.size) kids.push(el("h3", {}, "By category"), counts(t.byRule, "by-category"));
  if (t.bySite.size) kids.push(el("h3", {}, "By site"), counts(t.bySite, "by-site"));
  if (t.entries.length) kids.push(el("h3", {}, "What was filtered"), filteredList(t.entries));
  kids.push(
    el("p", { class: "small", id: "today-privacy" }, `Kept only in this browser, for today (text cut to ${SNIPPET_CHARS} characters); nothing is sent anywhere.`),
  );
  box.replaceChildren(...kids);
}

async function main(): Promise<void> {
  const settings = await loadSettings();
  const pause = $("pause") as HTMLInputElement;
  pause.checked = settings.paused;
  pause.addEventListener("change", () => void bg.settingsSet({ paused: pause.checked }));
  $("options").addEventListener("click", (e) => {
    e.preventDefault();
    void api.runtime.openOptionsPage();
  });
  renderStatus(await bg.status());
  await renderToday();
  api.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes[TODAY_LOG_KEY]) void renderToday();
  });
  // The host may still be starting: refresh a few times.
  let n = 0;
  const timer = setInterval(async () => {
    renderStatus(await bg.status());
    if (++n > 60) clearInterval(timer);
  }, 500);
}

void main();
