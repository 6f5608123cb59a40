// The in-browser fallback judge (issue 4): wasm-classifier compiled to WebAssembly — the same `core` policy
// engine as the host, with the tiny model (models/cards/tiny.md) instead of MiniLM. It runs here, in the
// background (service worker / event page), never in content scripts: pages with a strict CSP (x.com) block
// WebAssembly there. Needs 'wasm-unsafe-eval' in the extension pages' CSP (manifests/base.json).
import init, { TinyEngine, checkPolicy, modelInfo } from "feedwarden-wasm";
import { api } from "../shared/browser";
import type { Post, ValidationReply, Verdict, VerdictsReply } from "../shared/protocol";

export const WASM_PATH = "wasm/feedwarden_wasm_bg.wasm";
const DEFAULTS_SOURCE = '[policy]\nname = "Feedwarden defaults"\nextends = ["feedwarden:defaults"]\n';
/** Appended to every fallback verdict's reason, so the reader knows which engine judged. */
export const FALLBACK_NOTE = " · judged in the browser (fallback model)";

export interface WasmInfo {
  engine: string;
  model: string;
  tokens: number;
  dim: number;
  heads: string[];
}

export class WasmEngine {
  private loading: Promise<WasmInfo> | null = null;
  private engine: TinyEngine | null = null;
  private source: string | null = null;
  info: WasmInfo | null = null;
  error: string | null = null;

  /** Load the module once (a few ms; the model is inside the .wasm). */
  load(): Promise<WasmInfo> {
    this.loading ??= init({ module_or_path: api.runtime.getURL(WASM_PATH) })
      .then(() => {
        this.info = JSON.parse(modelInfo()) as WasmInfo;
        return this.info;
      })
      .catch((e: unknown) => {
        this.error = String((e as Error)?.message ?? e);
        this.loading = null;
        throw e;
      });
    return this.loading;
  }

  /** Judge posts under `policySource` (the reader's last known policy; "" = the shipped defaults). */
  async classify(posts: Post[], policySource: string): Promise<VerdictsReply> {
    await this.load();
    const t0 = performance.now();
    if (!this.engine || this.source !== policySource) {
      this.engine?.free();
      this.engine = null;
      try {
        this.engine = new TinyEngine(policySource);
      } catch {
        this.engine = new TinyEngine(""); // an unloadable policy: the defaults, as the host would keep the last good one
      }
      this.source = policySource;
    }
    const verdicts = (JSON.parse(this.engine.judge(JSON.stringify(posts))) as Verdict[]).map((v) => ({
      ...v,
      reason: v.reason + FALLBACK_NOTE,
    }));
    return { type: "verdicts", elapsed_ms: performance.now() - t0, verdicts } as VerdictsReply;
  }

  /** Name and rule count of the policy the fallback runs (the shipped defaults for ""), once loaded. */
  policySummary(source: string): { name: string; rules: number } | null {
    if (!this.info) return null;
    try {
      const r = JSON.parse(checkPolicy(source || DEFAULTS_SOURCE)) as { rules: string[] };
      return { name: source ? "your policy (as the host last reported it)" : "Feedwarden defaults", rules: r.rules.length };
    } catch {
      return null;
    }
  }

  async validate(source: string): Promise<ValidationReply> {
    await this.load();
    const r = JSON.parse(checkPolicy(source)) as { loadable: boolean; diagnostics: ValidationReply["diagnostics"] };
    return { type: "policy.validation", loadable: r.loadable, diagnostics: r.diagnostics };
  }
}
