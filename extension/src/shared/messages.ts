// Messages inside the extension, named by direction with typed payloads.
//   CsToBgPort / BgToCsPort: content script ↔ background over one long-lived `runtime.connect` port per page
//     (PAGE_PORT): posts to judge, their verdicts, and later verdict updates (UNTRUSTED from the page side)
//   CsToBg: content script → background, one-off `runtime.sendMessage` (UNTRUSTED)
//   UiToBg: popup/options → background (trusted: extension pages only)
//   BgToCs: background → content scripts
import type { Diagnostic, FeedbackKind, HelloReply, PolicyReply, Post, StatsReply, ValidationReply, Verdict } from "./protocol";
import type { Settings } from "./settings";

/** Name of the content script's port to the background. */
export const PAGE_PORT = "feedwarden.page";

/** `batch` numbers the page's requests so replies find their posts; `imageBudgetMs` is the reader's setting
 * (null: the host's default). */
export type CsToBgPort = { type: "cs.classify"; batch: number; posts: Post[]; imageBudgetMs: number | null };

export type BgToCsPort =
  /** The answer for the posts `ids` of a batch. A batch may be answered in parts: posts without images are
   * not held back while the background downloads and downsizes the others' images. */
  | { type: "bg.verdicts"; batch: number; ids: string[]; result: ClassifyResult }
  /** A post's full verdict once its images are judged (it was answered with `images_pending: true`). */
  | { type: "bg.verdict.update"; verdict: Verdict };

export type CsToBg = { type: "cs.feedback"; post: Post; rule: string | null; kind: FeedbackKind };

export type UiToBg =
  | { type: "ui.status" }
  | { type: "ui.stats" }
  | { type: "ui.reconnect" }
  | { type: "ui.policy.get" }
  | { type: "ui.policy.set"; source: string }
  | { type: "ui.policy.validate"; source: string }
  | { type: "ui.settings.set"; settings: Partial<Settings> };

export type BgToCs = { type: "bg.settings"; settings: Settings } | { type: "bg.rejudge" };

export type HostState = "connecting" | "connected" | "not-installed" | "model-unavailable" | "disconnected" | "error";

export interface HostStatus {
  state: HostState;
  /** One sentence for the reader. */
  message: string;
  hello: HelloReply | null;
  /** Round-trip time of recent classify requests, in ms. */
  latency: { p50: number; p95: number; n: number } | null;
  installCommand: string;
  /** True while the in-browser WASM engine judges instead of the host (fallback-engine.ts). */
  fallback?: boolean;
  since: number;
}

/** `elapsedMs`: inside the judge; `backgroundMs`: inside the service worker, host round trip included;
 * `backgroundSpan`: when the request reached the background and when its reply left, in wall-clock ms
 * (`performance.timeOrigin + performance.now()`, comparable with the page's), so the two directions of the
 * page ↔ background hop can be told apart (docs/benchmarks.md). */
export type ClassifyResult =
  | { ok: true; verdicts: Verdict[]; elapsedMs: number; backgroundMs?: number; backgroundSpan?: [number, number] }
  | { ok: false; error: string; state: HostState };
export type FeedbackResult = { ok: true; feedbackId: number } | { ok: false; error: string };
export type PolicyResult = { ok: true; policy: PolicyReply } | { ok: false; error: string };
export type ValidateResult = { ok: true; validation: ValidationReply } | { ok: false; error: string };
export type StatsResult = { ok: true; stats: StatsReply } | { ok: false; error: string };

export type { Diagnostic };
