// GENERATED from the Rust protocol types (core/src/protocol/) by ts-rs: do not edit.
// Regenerate: FEEDWARDEN_BLESS=1 cargo test -p feedwarden-core --lib protocol::typescript
// The human description is docs/protocol.md.

/**
 * What happens to the post.
 */
export type VerdictAction = "show" | "allow" | "label" | "blur" | "hide";

/**
 * What a rule does to a post it matches. `Allow` wins over everything; otherwise hide > blur > label.
 */
export type RuleAction = "label" | "blur" | "hide" | "allow";

/**
 * A rule that fired.
 */
export type FiredRule = { rule: string, action: RuleAction, score: number, threshold: number, };

export type Severity = "error" | "warning";

/**
 * One problem found in a policy file.
 */
export type Diagnostic = { severity: Severity, 
/**
 * Stable machine-readable code, e.g. `unknown-key`.
 */
code: string, 
/**
 * File the problem is in, when known (extended files are reported with their own name).
 */
file: string | null, 
/**
 * 1-based line and column (characters).
 */
line: number, column: number, 
/**
 * Id of the rule the problem belongs to, when known.
 */
rule: string | null, 
/**
 * What is wrong and how to fix it.
 */
message: string, };

/**
 * Every failure a reply can carry.
 */
export type ErrorCode = "frame-too-large" | "bad-utf8" | "bad-json" | "not-an-object" | "missing-type" | "unknown-type" | "bad-request" | "too-many-posts" | "model-unavailable" | "model-error" | "storage-error" | "reply-too-large";

/**
 * Which way a reader corrected a verdict.
 */
export type FeedbackKind = "was_fine" | "more_like_this";

/**
 * A post as the browser sends it: `id` and `text` are required and unknown fields are refused, so a typo
 * (`"txt"`) is a `bad-request`, not a post judged on an empty text. Converted to the engine's [`Post`].
 */
export type Post = { 
/**
 * The caller's id, echoed in the verdict.
 */
id: string, 
/**
 * The post's text.
 */
text: string, 
/**
 * Text of a quoted or reposted post, judged with `text`.
 */
quoted_text?: string, 
/**
 * Host name where the post was seen (`x.com`, `old.reddit.com`).
 */
site?: string, 
/**
 * Author handle, with or without `@`.
 */
author?: string, 
/**
 * Whether the page says the reader follows the author.
 */
author_followed?: boolean, 
/**
 * The post's images as `data:image/…;base64,…` URLs.
 */
images?: Array<string>, 
/**
 * Permalink.
 */
url?: string, 
/**
 * Creation time as the site gives it.
 */
created_at?: string, };

/**
 * Every request the extension sends, by `type`. `request_id` (any JSON value, at most 256 bytes as JSON) is
 * echoed in the reply.
 */
export type HostRequest = { "type": "hello", request_id?: unknown, 
/**
 * Protocol versions the client speaks.
 */
protocols?: Array<number>, client?: string, } | { "type": "classify", request_id?: unknown, posts: Array<Post>, 
/**
 * How long to wait for the posts' images before answering on their text alone (the image-informed
 * verdict then follows as a `verdict.update`); absent → the host's default, 0 → never wait.
 */
image_budget_ms?: number, } | { "type": "policy.get", request_id?: unknown, } | { "type": "policy.set", request_id?: unknown, source: string, } | { "type": "policy.validate", request_id?: unknown, source: string, } | { "type": "feedback", request_id?: unknown, post: Post, 
/**
 * The rule the correction is about; absent (only for `more_like_this`) means every rule.
 */
rule?: string, kind: FeedbackKind, 
/**
 * A key the client chose for this correction (a UUID), the same when it sends the request again:
 * the host stores a correction once per key.
 */
idempotency_key?: string, } | { "type": "stats", request_id?: unknown, } | { "type": "cancel", request_id?: unknown, 
/**
 * The `request_id`s of the `classify` requests whose remaining work to drop.
 */
requests: unknown[], };

/**
 * Why one image was not judged.
 */
export type ImageError = { 
/**
 * `image-corrupt`, `image-too-large`, … (`docs/protocol.md`, "Images").
 */
code: string, 
/**
 * One sentence saying what was wrong.
 */
reason: string, };

/**
 * What the vision-language model (SmolVLM) said about one image: asked only for images a rule with an
 * `image_description` needs it for (CLIP uncertain or absent), or for every image by `feedwarden batch --vlm`.
 */
export type VlmFinding = { 
/**
 * The model that answered (`smolvlm-256m`, or `smolvlm-tiny` in tests).
 */
model: string, 
/**
 * A short generated description of the image ("a close-up photo of a spider on a wall").
 */
description?: string, 
/**
 * Rule id → P(yes) to "Does this image show ‹image_description›?" (the yes against the no token group).
 */
scores: { [key in string]: number }, 
/**
 * Why the model could not answer (all of it or part: the budget ran out, the model failed to load).
 */
error?: string, 
/**
 * Time the model spent on this image, in milliseconds.
 */
ms: number, };

/**
 * What one of a post's images said.
 */
export type ImageFinding = { 
/**
 * sha256 of the encoded bytes (empty when there were none).
 */
sha256: string, 
/**
 * Text read from the image by OCR (`""` when none).
 */
text: string, 
/**
 * P(nsfw) from OpenNSFW, when it ran.
 */
nsfw: number | null, 
/**
 * Whether the image's CLIP embedding was computed (and compared with the policy's image descriptions).
 */
clip: boolean, 
/**
 * Why the image was not judged (`null` when it was).
 */
error: ImageError | null, 
/**
 * Time spent on this image, in milliseconds.
 */
ms: number, 
/**
 * Set when a reply over 1 MB cut `text` to 200 characters.
 */
text_truncated?: boolean, 
/**
 * What the vision-language model said, when it looked at this image.
 */
vlm?: VlmFinding, };

/**
 * One post's verdict on the wire: the engine's [`Verdict`] plus how it was produced.
 */
export type Verdict = { 
/**
 * The native host: whether the verdict came from its SQLite cache. Absent elsewhere.
 */
cached?: boolean, 
/**
 * What each of the post's images said, in the post's order; absent when the post has no images or they
 * were not judged.
 */
images?: Array<ImageFinding>, 
/**
 * `true` on a verdict whose images are still being judged — some of their stages missed the request's
 * image budget, or the VLM is looking at them — a `verdict.update` with the fuller verdict follows;
 * `false` on the last update; absent otherwise.
 */
images_pending?: boolean, 
/**
 * The in-browser fallback: who judged (`browser-fallback`) and with which model.
 */
engine?: string, model?: string, 
/**
 * Set when a reply over 1 MB had to be trimmed to fit: see `docs/protocol.md`, "Trimmed verdicts".
 */
trimmed?: boolean, 
/**
 * How many `images` entries a trimmed verdict left out.
 */
images_omitted?: number, id: string, action: VerdictAction, 
/**
 * The rule that decided, if any.
 */
rule: string | null, 
/**
 * What that rule looks for, in its author's words (its `description`, on one line, at most
 * [`MAX_DESCRIPTION_CHARS`] characters), so a reader's own rule can be named in a sentence.
 */
description?: string, scores: { [key in string]: number }, sub_labels?: { [key in string]: { [key in string]: number } }, 
/**
 * Every rule that fired, strongest first.
 */
fired: Array<FiredRule>, 
/**
 * Rule id → image score (see [`Scores::images`]), for rules with an `image_description`.
 */
image_scores?: { [key in string]: number }, 
/**
 * One line a reader understands.
 */
reason: string, };

/**
 * A model the host has (or lacks), with the execution provider that actually runs it.
 */
export type ModelInfo = { id: string, 
/**
 * `text-encoder`, `ocr`, `nsfw`, `clip`, `vlm`.
 */
kind: string, 
/**
 * `CPU` or `CUDA`; `null` when the model is not loaded.
 */
provider: string | null, path: string, 
/**
 * Why it is not loaded, with what to run.
 */
error?: string, 
/**
 * `false` for a model that is installed but loaded only when a rule needs it (CLIP).
 */
loaded?: boolean, note?: string, };

/**
 * A built-in category head.
 */
export type HeadInfo = { id: string, name: string, 
/**
 * Validation figures from the model card.
 */
validation: unknown, };

/**
 * The active policy in brief.
 */
export type PolicySummary = { name: string, hash: string, 
/**
 * How many rules it has.
 */
rules: number, };

/**
 * Whether the SQLite database can be used.
 */
export type StorageReport = { ok: boolean, path: string, error?: string, 
/**
 * What does not work because of it.
 */
effect?: string, };

/**
 * `hello`: what the host is and what it can do.
 */
export type HelloReply = { type: "hello", request_id?: unknown, protocol: number, host: string, version: string, 
/**
 * Whether posts can be judged (the text model loaded).
 */
ready: boolean, 
/**
 * Why not, with what to run.
 */
error: string | null, provider: string, models: Array<ModelInfo>, heads: Array<HeadInfo>, policy: PolicySummary, data_dir: string, storage: StorageReport, uptime_ms: number, 
/**
 * What the host takes in, so a client sends what will be used (and no images when none would be).
 */
accepts: Accepts, };

/**
 * `verdicts`: the answer to `classify`, one verdict per post, in order.
 */
export type VerdictsReply = { type: "verdicts", request_id?: unknown, verdicts: Array<Verdict>, elapsed_ms: number, };

/**
 * Why judging a post with its images failed (a `verdict.update`'s `error`).
 */
export type ReplyError = { code: ErrorCode, message: string, detail: string, };

/**
 * `verdict.update`: written after the `verdicts` reply whose verdict had `images_pending: true`, each time
 * one of that post's image stages is done (OCR, NSFW, CLIP: the faster ones' findings never wait for a slow
 * one) and once its images are judged. `request_id` is the classify request's; `verdict.id` is the post's
 * id. An update that still says `images_pending: true` announces one more (a slower image stage is still
 * running, or the VLM is looking at the images).
 */
export type VerdictUpdate = { type: "verdict.update", request_id?: unknown, verdict: Verdict, 
/**
 * Judging the post with its images failed: `verdict` is the text-only verdict again, with `images`.
 */
error?: ReplyError, 
/**
 * From the start of the classify request to this update.
 */
elapsed_ms: number, };

/**
 * One rule of the active policy.
 */
export type PolicyRuleInfo = { id: string, category: string, action: RuleAction, threshold: number, enabled: boolean, user_defined: boolean, };

/**
 * `policy`: the answer to `policy.get` and `policy.set`.
 */
export type PolicyReply = { type: "policy", request_id?: unknown, 
/**
 * Whether the text is the active policy (`false`: `policy.set` could not load it; nothing changed).
 */
applied: boolean, 
/**
 * The policy file's own text.
 */
source: string, name: string, hash: string, rules: Array<PolicyRuleInfo>, diagnostics: Array<Diagnostic>, path: string, };

/**
 * `policy.validation`: the answer to `policy.validate` (nothing applied).
 */
export type ValidationReply = { type: "policy.validation", request_id?: unknown, loadable: boolean, diagnostics: Array<Diagnostic>, };

/**
 * `feedback`: the correction is stored (once per idempotency key).
 */
export type FeedbackReply = { type: "feedback", request_id?: unknown, stored: boolean, feedback_id: number, 
/**
 * The same idempotency key was stored before: nothing new was stored.
 */
duplicate: boolean, };

/**
 * Today's filtered posts for one site, category and action.
 */
export type FilteredCount = { site: string, category: string, action: VerdictAction, count: number, };

/**
 * Today's statistics.
 */
export type StatsToday = { 
/**
 * `YYYY-MM-DD`, UTC.
 */
day: string, judged_today: number, filtered_today: Array<FilteredCount>, feedback_total: number, cache_rows: number, };

/**
 * `hello.accepts`: the inputs the host judges and their limits.
 */
export type Accepts = { 
/**
 * Whether posts' `images` are looked at: some image model is loaded or installed for the policy (OCR,
 * NSFW, or CLIP / the VLM for rules with an `image_description`). When `false`, send no images.
 */
images: boolean, 
/**
 * Image formats decoded (`jpeg`, `png`, `webp`, `gif` — its first frame).
 */
image_formats: Array<string>, 
/**
 * Encoded bytes per image at most; larger images are refused (`image-too-many-bytes`).
 */
image_max_bytes: number, 
/**
 * Pixels a side at most (`image-too-large` beyond).
 */
image_max_dimension: number, 
/**
 * Pixels in all at most (`image-too-large` beyond).
 */
image_max_pixels: number, 
/**
 * Characters of a post's text that are judged; the rest is not read.
 */
text_max_chars: number, 
/**
 * Posts in one `classify` request at most (`too-many-posts` beyond).
 */
posts_per_request: number, };

/**
 * `stats`: what was judged and filtered today.
 */
export type StatsReply = { type: "stats", request_id?: unknown, today: StatsToday, requests: number, uptime_ms: number, };

/**
 * `cancelled`: the answer to `cancel`.
 */
export type CancelledReply = { type: "cancelled", request_id?: unknown, 
/**
 * Posts whose pending work was dropped (no `verdict.update` will come for them).
 */
posts: number, };

/**
 * `error`: the request could not be answered.
 */
export type ErrorReply = { type: "error", request_id?: unknown, code: ErrorCode, 
/**
 * One sentence for the reader ([`ErrorCode::sentence`]).
 */
message: string, 
/**
 * Specifics for logs.
 */
detail: string, };

/** Every reply the host sends to a request (the unsolicited `verdict.update` is separate). */
export type HostReply = HelloReply | VerdictsReply | PolicyReply | ValidationReply | FeedbackReply | StatsReply | CancelledReply | ErrorReply;

/** Protocol version the host speaks. */
export const PROTOCOL_VERSION = 1;
/** Maximum posts per `classify` request (protocol limit). */
export const MAX_POSTS_PER_REQUEST = 256;
/** Every request `type`. */
export const REQUEST_TYPES = ["hello", "classify", "policy.get", "policy.set", "policy.validate", "feedback", "stats", "cancel"] as const;
/** Every error `code`. */
export const ERROR_CODES = ["frame-too-large", "bad-utf8", "bad-json", "not-an-object", "missing-type", "unknown-type", "bad-request", "too-many-posts", "model-unavailable", "model-error", "storage-error", "reply-too-large"] as const;
/** The built-in categories (core/src/categories.rs): id, name, what they look for in plain words, and
* whether they are judged from `text` or `images`. */
export const BUILTIN_CATEGORIES = [{"id":"rage-bait","name":"Rage-bait","plain":"this looks built to make you angry","judged_from":"text"},{"id":"manipulation","name":"Manipulation","plain":"this uses manipulation techniques","judged_from":"text"},{"id":"clickbait","name":"Clickbait","plain":"this looks like bait to make you click","judged_from":"text"},{"id":"engagement-bait","name":"Engagement bait","plain":"this looks built to farm likes, shares or comments","judged_from":"text"},{"id":"nsfw","name":"Sexually explicit images","plain":"an image looks sexually explicit","judged_from":"images"}] as const;
