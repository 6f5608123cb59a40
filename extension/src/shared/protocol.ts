// Types of the host's native-messaging protocol (docs/protocol.md, native-host/src/protocol.rs).
// tests/e2e/contract.test.mjs fails when a request type or error code named in docs/protocol.md is missing here.

export interface Post {
  id: string;
  text: string;
  quoted_text?: string;
  site?: string;
  author?: string;
  author_followed?: boolean;
  images?: string[];
  url?: string;
  created_at?: string;
}

export type Action = "show" | "allow" | "label" | "blur" | "hide";

export interface FiredRule {
  rule: string;
  action: Action;
  score: number;
  threshold: number;
}

/** What the host found in one of a post's images (docs/protocol.md, "Images"). */
export interface ImageFinding {
  sha256?: string;
  /** Text read from the image by OCR ("" when none). */
  text: string;
  nsfw?: number | null;
  error?: { code: string; reason: string } | null;
  ms?: number;
}

export interface Verdict {
  id: string;
  action: Action;
  rule: string | null;
  /** The deciding rule's `description` (one line, ≤ 200 characters); absent when no rule decided. */
  description?: string;
  scores: Record<string, number>;
  sub_labels?: Record<string, Record<string, number>>;
  fired?: FiredRule[];
  reason: string;
  cached?: boolean;
  images?: ImageFinding[];
  /** The images were not judged within the request's image budget: this is the text-only verdict, and a
   * `verdict.update` frame with the full verdict follows on the same connection. */
  images_pending?: boolean;
}

export interface ModelInfo {
  id: string;
  kind: string;
  provider?: string | null;
  error?: string | null;
  path?: string;
  /** `false` for a model that is installed but loaded only when a rule needs it (CLIP). */
  loaded?: boolean;
  note?: string;
}

export interface HelloReply {
  type: "hello";
  protocol: number;
  host: string;
  version: string;
  ready: boolean;
  error: string | null;
  provider: string;
  models: ModelInfo[];
  heads: { id: string; name: string }[];
  policy: { name: string; hash: string; rules: number };
  data_dir: string;
  uptime_ms: number;
}

export interface Diagnostic {
  severity: "error" | "warning";
  code: string;
  file?: string | null;
  line: number;
  column: number;
  rule?: string | null;
  message: string;
}

export interface PolicyRuleInfo {
  id: string;
  category: string | null;
  action: Action;
  threshold: number;
  enabled: boolean;
  user_defined: boolean;
}

export interface PolicyReply {
  type: "policy";
  applied: boolean;
  source: string;
  name: string;
  hash: string;
  path: string;
  rules: PolicyRuleInfo[];
  diagnostics: Diagnostic[];
}

export interface ValidationReply {
  type: "policy.validation";
  loadable: boolean;
  diagnostics: Diagnostic[];
}

export interface FilteredCount {
  site: string;
  category: string;
  action: Action;
  count: number;
}

export interface StatsReply {
  type: "stats";
  today: { day: string; judged_today: number; filtered_today: FilteredCount[]; feedback_total: number; cache_rows: number };
  requests: number;
  uptime_ms: number;
}

export interface VerdictsReply {
  type: "verdicts";
  elapsed_ms: number;
  verdicts: Verdict[];
}

/** Unsolicited frame, written after the `verdicts` reply whose verdict had `images_pending: true`, once
 * that post's images are judged. `request_id` is the classify request's; `verdict.id` is the post id. */
export interface VerdictUpdate {
  type: "verdict.update";
  request_id: number;
  /** From the start of the classify request to this update. */
  elapsed_ms?: number;
  verdict: Verdict;
  /** Judging the post with its images failed: `verdict` is the text-only verdict again, with `images`. */
  error?: { code: ErrorCode; message: string; detail?: string };
}

export interface FeedbackReply {
  type: "feedback";
  stored: boolean;
  feedback_id: number;
}

export type ErrorCode =
  | "frame-too-large"
  | "bad-utf8"
  | "bad-json"
  | "not-an-object"
  | "missing-type"
  | "unknown-type"
  | "bad-request"
  | "too-many-posts"
  | "model-unavailable"
  | "model-error"
  | "storage-error"
  | "reply-too-large";

export interface ErrorReply {
  type: "error";
  code: ErrorCode;
  message: string;
  detail?: string;
}

export type FeedbackKind = "was_fine" | "more_like_this";

/** Every request the extension sends, by `type`. */
export type HostRequest =
  | { type: "hello"; protocols: number[]; client: string }
  | {
      type: "classify";
      posts: Post[];
      /** How long the host may wait for a post's images before answering with the text-only verdict and a
       * later `verdict.update` (0 = never wait). Absent: the host's default. */
      image_budget_ms?: number;
    }
  | { type: "policy.get" }
  | { type: "policy.set"; source: string }
  | { type: "policy.validate"; source: string }
  | { type: "feedback"; post: Post; rule?: string; kind: FeedbackKind }
  | { type: "stats" };

export type HostReply =
  | HelloReply
  | VerdictsReply
  | PolicyReply
  | ValidationReply
  | FeedbackReply
  | StatsReply
  | ErrorReply;

/** Maximum posts per `classify` request (protocol limit). */
export const MAX_POSTS_PER_REQUEST = 256;
