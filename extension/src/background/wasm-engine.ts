// The in-browser fallback judge (issue 4): wasm-classifier compiled to WebAssembly — the same `core` policy
// engine as the host, with the tiny model (models/cards/tiny.md) instead of MiniLM. It runs here, in the
// background (service worker / event page), never in content scripts: pages with a strict CSP (x.com) block
// WebAssembly there. Needs 'wasm-unsafe-eval' in the extension pages' CSP (manifests/base.json).
import init, { TinyEngine, checkPolicy, modelInfo } from "feedwarden-wasm";
import { api } from "../shared/browser";
import { DEFAULT_POLICY_SOURCE } from "../shared/constants";
import type { FeedbackKind, FeedbackReply, Post, ValidationReply, Verdict, VerdictsReply } from "../shared/protocol";

export const WASM_PATH = "wasm/feedwarden_wasm_bg.wasm";
/** Appended to every fallback verdict's reason, so the reader knows which engine judged. */
export const FALLBACK_NOTE = " · judged in the browser (fallback model)";

/** storage.local: the reader's corrections given while the browser judged (the host keeps its own). */
export const FEEDBACK_KEY = "fallbackFeedback";
/** At most this many corrections are kept (the oldest go first): ~2 KB each. */
export const MAX_FEEDBACK_ROWS = 500;

/** Longest post text kept for handing a correction over to the host. */
const MAX_PENDING_TEXT_CHARS = 4000;

/** One stored correction: what core's `tiny::FeedbackRow` reads (the tiny model's embedding of the post, as
 * the host keeps MiniLM's), plus `post` until the host has taken the correction over: the host embeds the
 * post with its own model, so it needs the text. Stays in storage.local on this machine and is dropped as
 * soon as the host has stored the correction. */
export interface FeedbackRow {
  id: number;
  rule: string | null;
  /** The site it was given on: like the host, a correction only moves posts from that site. */
  site?: string | null;
  kind: FeedbackKind;
  embedding: number[];
  /** Whose embedding this is: `modelInfo().embedding`, the id of the tiny model whose token table the engine
   * has (v8 shares v7's, so rows stored under v7 still apply). Rows of another embedding are not applied. */
  model: string;
  post?: Post;
}

export interface WasmInfo {
  engine: string;
  model: string;
  /** The id stored feedback rows carry (see `FeedbackRow.model`). */
  embedding: string;
  tokens: number;
  dim: number;
  heads: string[];
}

export class WasmEngine {
  private loading: Promise<WasmInfo> | null = null;
  private engine: TinyEngine | null = null;
  private source: string | null = null;
  /** The corrections the current engine holds (the stored array itself; storage hands out new arrays). */
  private feedbackRows: FeedbackRow[] | null = null;
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
      this.feedbackRows = null;
    }
    await this.syncFeedback(this.engine);
    const verdicts = (JSON.parse(this.engine.judge(JSON.stringify(posts))) as Verdict[]).map((v) => ({
      ...v,
      reason: v.reason + FALLBACK_NOTE,
    }));
    return { type: "verdicts", elapsed_ms: performance.now() - t0, verdicts } as VerdictsReply;
  }

  /** Store a correction ("this was fine" / "hide more like this") as the host would: the post's embedding by
   * the tiny model, for one rule or (rule absent) all of them. Later verdicts of similar posts move. */
  async feedback(post: Post, rule: string | undefined, kind: FeedbackKind): Promise<FeedbackReply> {
    await this.load();
    const engine = this.engine ?? new TinyEngine("");
    const embedding = Array.from(engine.embedPost(JSON.stringify(post)), (x) => Math.round(x * 1e5) / 1e5);
    if (engine !== this.engine) engine.free();
    const rows = await storedFeedback();
    const id = (rows.at(-1)?.id ?? 0) + 1;
    const kept: Post = { id: post.id, text: post.text.slice(0, MAX_PENDING_TEXT_CHARS) };
    for (const k of ["quoted_text", "site", "author", "url", "created_at"] as const) if (post[k]) kept[k] = post[k];
    rows.push({ id, rule: rule ?? null, site: post.site ?? null, kind, embedding, model: this.info?.embedding ?? "", post: kept });
    await api.storage.local.set({ [FEEDBACK_KEY]: rows.slice(-MAX_FEEDBACK_ROWS) });
    return { type: "feedback", stored: true, feedback_id: id, duplicate: false };
  }

  /** Corrections the host has not taken over yet (oldest first). */
  async pendingForHost(): Promise<(FeedbackRow & { post: Post })[]> {
    return (await storedFeedback()).filter((r): r is FeedbackRow & { post: Post } => !!r.post?.text);
  }

  /** The host has these corrections now: drop their post text (the fallback keeps applying the rows). */
  async handedOver(ids: number[]): Promise<void> {
    const done = new Set(ids);
    const rows = (await storedFeedback()).map((r) => (done.has(r.id) ? { ...r, post: undefined } : r));
    await api.storage.local.set({ [FEEDBACK_KEY]: rows });
  }

  /** Give the engine the stored corrections when they changed. */
  private async syncFeedback(engine: TinyEngine): Promise<void> {
    const rows = await storedFeedback();
    const key = (r: FeedbackRow[] | null) => (r?.length ? `${r.length}:${r.at(-1)!.id}` : "");
    if (this.feedbackRows !== null && key(rows) === key(this.feedbackRows)) return;
    engine.setFeedback(JSON.stringify(rows.filter((r) => r.model === this.info?.embedding)));
    this.feedbackRows = rows;
  }

  /** Name and rule count of the policy the fallback runs (the shipped defaults for ""), once loaded. */
  policySummary(source: string): { name: string; rules: number } | null {
    if (!this.info) return null;
    try {
      const r = JSON.parse(checkPolicy(source || DEFAULT_POLICY_SOURCE)) as { rules: string[] };
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

async function storedFeedback(): Promise<FeedbackRow[]> {
  const got = await api.storage.local.get(FEEDBACK_KEY);
  const rows = got[FEEDBACK_KEY];
  return Array.isArray(rows) ? (rows as FeedbackRow[]) : [];
}
