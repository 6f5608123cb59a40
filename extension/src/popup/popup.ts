// The toolbar popup: is the host there (models, CPU/GPU, latency), what was filtered today, pause.
import { api } from "../shared/browser";
import type { HostStatus } from "../shared/messages";
import { loadSettings } from "../shared/settings";
import { bg, el } from "../shared/ui-client";

const $ = (id: string) => document.getElementById(id)!;

function renderStatus(s: HostStatus): void {
  const box = $("status");
  box.dataset.state = s.state;
  box.replaceChildren(el("span", { class: `dot ${s.state}` }), el("span", { id: "status-text" }, s.message));
  const help = $("help");
  help.replaceChildren();
  if (s.state === "not-installed" || s.state === "model-unavailable" || s.state === "disconnected" || s.state === "error") {
    if (s.state === "not-installed") {
      help.append(
        el("p", {}, s.fallback ? "Until the host is installed, a small model judges posts in the browser (lower quality). In a terminal, run:" : "Posts are shown unfiltered until the host is installed. In a terminal, run:"),
        el("pre", { id: "install-command" }, s.installCommand),
        el("p", { class: "small" }, "From a source checkout: ./setup.sh, then ./target/release/feedwarden install"),
      );
    }
    const retry = el("button", { id: "retry", type: "button" }, "Retry");
    retry.addEventListener("click", async () => renderStatus(await bg.reconnect()));
    help.append(retry);
  }
  const h = s.hello;
  const rows: [string, string][] = [];
  if (h) {
    rows.push(["Host", `${h.host} ${h.version}`]);
    rows.push(["Runs on", h.provider]);
    rows.push(["Models", h.models.map((m) => `${m.id} (${m.provider ?? h.provider})`).join(", ") || "none"]);
    rows.push(["Policy", `${h.policy.name} (${h.policy.rules} rules)`]);
  }
  if (s.latency) rows.push(["Latency", `p50 ${s.latency.p50.toFixed(0)} ms · p95 ${s.latency.p95.toFixed(0)} ms (${s.latency.n} batches)`]);
  $("host").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", { "data-key": k }, v))));
}

async function renderStats(): Promise<void> {
  const r = await bg.stats().catch(() => null);
  const box = $("today");
  if (!r || !r.ok) {
    box.replaceChildren(el("p", { class: "small" }, "No statistics while the host is not connected."));
    return;
  }
  const t = r.stats.today;
  const byCat = new Map<string, number>();
  const bySite = new Map<string, number>();
  for (const f of t.filtered_today) {
    byCat.set(f.category, (byCat.get(f.category) ?? 0) + f.count);
    bySite.set(f.site, (bySite.get(f.site) ?? 0) + f.count);
  }
  const total = [...byCat.values()].reduce((a, b) => a + b, 0);
  const list = (m: Map<string, number>, id: string) =>
    el("ul", { id }, ...[...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => el("li", {}, `${k}: ${n}`)));
  box.replaceChildren(
    el("p", { id: "today-summary" }, `${total} filtered of ${t.judged_today} judged today`),
    el("h3", {}, "By category"),
    list(byCat, "by-category"),
    el("h3", {}, "By site"),
    list(bySite, "by-site"),
  );
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
  await renderStats();
  // The host may still be starting: refresh a few times.
  let n = 0;
  const timer = setInterval(async () => {
    renderStatus(await bg.status());
    if (++n % 4 === 0) await renderStats();
    if (n > 60) clearInterval(timer);
  }, 500);
}

void main();
