// Messages inside the extension, named by direction with typed payloads.
//   CsToBg: content script → background (UNTRUSTED: a compromised page renderer can send anything)
//   UiToBg: popup/options → background (trusted: extension pages only)
//   BgToCs: background → content scripts
import type { Diagnostic, FeedbackKind, HelloReply, PolicyReply, Post, StatsReply, ValidationReply, Verdict } from "./protocol";
import type { Settings } from "./settings";

export type CsToBg =
  | { type: "cs.classify"; posts: Post[] }
  | { type: "cs.feedback"; post: Post; rule: string | null; kind: FeedbackKind };

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

/** `elapsedMs`: inside the judge; `backgroundMs`: inside the service worker, host round trip included. */
export type ClassifyResult =
  | { ok: true; verdicts: Verdict[]; elapsedMs: number; backgroundMs?: number }
  | { ok: false; error: string; state: HostState };
export type FeedbackResult = { ok: true; feedbackId: number } | { ok: false; error: string };
export type PolicyResult = { ok: true; policy: PolicyReply } | { ok: false; error: string };
export type ValidateResult = { ok: true; validation: ValidationReply } | { ok: false; error: string };
export type StatsResult = { ok: true; stats: StatsReply } | { ok: false; error: string };

export type { Diagnostic };
