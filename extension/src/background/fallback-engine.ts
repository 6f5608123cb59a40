// The engine the background uses: the native host when it is there, the in-browser WASM engine when it is
// not (not installed, crashed, model missing). Hand-back is automatic: the native engine keeps retrying, and
// as soon as it is connected again every request goes to it. The reader's policy lives in the host, so the
// last policy the host reported is kept in storage.local for the fallback (the shipped defaults before that).
// When the host comes back, pages are told to judge their posts again (policyVersion), so the host's better
// verdicts replace the fallback's. The reader's corrections given meanwhile are kept by the WASM engine
// (storage.local) and move its later verdicts as the host's feedback does; when the host is back they are
// handed over to it (sent as ordinary feedback requests), so no correction is lost. The options page's
// "Judge in the browser" checkbox (settings.fallback) turns the fallback off.
import { api } from "../shared/browser";
import { FALLBACK_POLICY_KEY } from "../shared/constants";
import type { HostStatus } from "../shared/messages";
import { MAX_POSTS_PER_REQUEST, type HelloReply, type HostReply, type HostRequest, type PolicyReply } from "../shared/protocol";
import { MAX_POST_TEXT_CHARS } from "./validate";
import type { Engine } from "./engine";
import { WasmEngine } from "./wasm-engine";

const POLICY_KEY = FALLBACK_POLICY_KEY;

/** Whether the host runs the text a `policy` reply carries: a policy file that cannot load comes back as it
 *  is (for the editor) while the last good policy runs, and the fallback must keep that one too. */
function runsItsSource(reply: PolicyReply): boolean {
  return !reply.diagnostics.some((d) => d.code === "policy-not-active");
}
/** storage.session flag: some posts were judged in the browser since the host was last connected (survives
 * service-worker restarts, so the hand-back still re-judges them). */
const JUDGED_KEY = "fallbackJudged";
/** Shown in the popup while the browser judges (issue 4: the reader is told which engine is judging). */
export const FALLBACK_MESSAGE = "Judging in the browser (fallback): the small built-in model, lower quality than the host.";

export class FallbackEngine implements Engine {
  private listeners: ((s: HostStatus) => void)[] = [];
  private judgedInBrowser = false;
  private replaying: Promise<number> | null = null;
  private enabled = true;
  private policySource = "";

  constructor(
    private native: Engine,
    private wasm: WasmEngine = new WasmEngine(),
  ) {
    native.onStatusChange((s) => {
      if (s.state === "connected") {
        void this.rememberPolicy();
        void this.handBack();
      } else if (s.state !== "connecting") {
        void this.wasm.load().then(() => this.emit(), () => this.emit());
      }
      this.emit();
    });
    const readSetting = () =>
      void api.storage.local.get("settings").then((g) => {
        this.enabled = (g.settings as { fallback?: unknown } | undefined)?.fallback !== false;
        this.emit();
      });
    readSetting();
    void api.storage.local.get(POLICY_KEY).then((g) => {
      this.policySource = typeof g[POLICY_KEY] === "string" ? g[POLICY_KEY] : "";
    });
    api.storage.onChanged.addListener((changes, area) => {
      if (area !== "local") return;
      if (changes.settings) readSetting();
      if (changes[POLICY_KEY]) this.policySource = String(changes[POLICY_KEY].newValue ?? "");
    });
  }

  private inFallback(): boolean {
    const st = this.native.status().state;
    return st !== "connected" && st !== "connecting";
  }

  status(): HostStatus {
    const s = this.native.status();
    if (!this.enabled || !this.inFallback() || !this.wasm.info) return s;
    const info = this.wasm.info;
    const hello: HelloReply = {
      type: "hello",
      protocol: 1,
      host: "in-browser fallback (WebAssembly)",
      version: "0.1.0",
      ready: true,
      error: null,
      provider: "WebAssembly",
      models: [{ id: info.model, kind: "text", provider: "WebAssembly", path: "built into the extension" }],
      heads: info.heads.map((id) => ({ id, name: id, validation: null })),
      policy: { hash: "", ...(this.wasm.policySummary(this.policySource) ?? { name: "unknown", rules: 0 }) },
      data_dir: "",
      storage: { ok: true, path: "browser extension storage" },
      uptime_ms: 0,
      // The in-browser engine judges text only: no images are sent to it.
      accepts: { images: false, image_formats: [], image_max_bytes: 0, image_max_dimension: 0, image_max_pixels: 0, text_max_chars: MAX_POST_TEXT_CHARS, posts_per_request: MAX_POSTS_PER_REQUEST },
    };
    return { ...s, message: `${FALLBACK_MESSAGE} ${s.message}`, hello, fallback: true };
  }

  onStatusChange(cb: (s: HostStatus) => void): void {
    this.listeners.push(cb);
  }

  reconnect(): void {
    this.native.reconnect();
  }

  /** Only the native host has work to cancel (the WASM engine answers at once). */
  cancelOrigin(origin: string): number {
    return this.native.cancelOrigin(origin);
  }

  async request(req: HostRequest, opts?: { timeoutMs?: number }): Promise<HostReply> {
    if (!this.inFallback()) {
      try {
        const reply = await this.native.request(req, opts);
        if (reply.type === "policy" && runsItsSource(reply)) void api.storage.local.set({ [POLICY_KEY]: reply.source });
        return reply;
      } catch (e) {
        if (!this.inFallback() || !this.canFallBack(req)) throw e;
      }
    }
    if (!this.canFallBack(req)) return this.native.request(req, opts);
    if (req.type === "classify") {
      if (!this.judgedInBrowser) {
        this.judgedInBrowser = true;
        void api.storage.session?.set({ [JUDGED_KEY]: true }).catch(() => {});
      }
      const got = await api.storage.local.get(POLICY_KEY);
      return this.wasm.classify(req.posts, typeof got[POLICY_KEY] === "string" ? got[POLICY_KEY] : "");
    }
    if (req.type === "feedback") return this.wasm.feedback(req.post, req.rule, req.kind);
    return this.wasm.validate((req as { source: string }).source);
  }

  private canFallBack(req: HostRequest): boolean {
    return this.enabled && (req.type === "classify" || req.type === "policy.validate" || req.type === "feedback");
  }

  /** The host is back: the reader's corrections given meanwhile go to it, and pages judge again what the
   * fallback judged, so the host's verdicts replace them. */
  private async handBack(): Promise<void> {
    const replayed = await (this.replaying ??= this.replayFeedback().finally(() => (this.replaying = null)));
    const stored = await api.storage.session?.get(JUDGED_KEY).catch(() => ({}) as Record<string, unknown>);
    if (!this.judgedInBrowser && !stored?.[JUDGED_KEY] && !replayed) return;
    this.judgedInBrowser = false;
    await api.storage.session?.remove(JUDGED_KEY).catch(() => {});
    await bumpPolicyVersion();
  }

  /** Send the corrections given while the browser judged to the host, oldest first; returns how many it took.
   * A correction the host refuses (e.g. its rule was removed meanwhile) is not retried; if the host goes away
   * again, the rest wait for the next hand-back. */
  private async replayFeedback(): Promise<number> {
    const rows = await this.wasm.pendingForHost();
    const done: number[] = [];
    for (const r of rows) {
      try {
        const reply = await this.native.request(
          { type: "feedback", post: r.post, kind: r.kind, ...(r.rule ? { rule: r.rule } : {}) },
          { timeoutMs: 15_000 },
        );
        if (reply.type !== "feedback") console.warn("Feedwarden: the host refused a correction given in fallback", reply);
        done.push(r.id);
      } catch {
        break;
      }
    }
    if (done.length) await this.wasm.handedOver(done);
    return done.length;
  }

  private async rememberPolicy(): Promise<void> {
    try {
      const r = await this.native.request({ type: "policy.get" }, { timeoutMs: 15_000 });
      if (r.type === "policy" && runsItsSource(r)) await api.storage.local.set({ [POLICY_KEY]: r.source });
    } catch {
      /* the host went away again; keep the previous copy */
    }
  }

  private emit(): void {
    if (!this.listeners.length) return;
    const s = this.status();
    for (const cb of this.listeners) cb(s);
  }
}

async function bumpPolicyVersion(): Promise<void> {
  const got = await api.storage.local.get("policyVersion");
  await api.storage.local.set({ policyVersion: (Number(got.policyVersion) || 0) + 1 });
}
