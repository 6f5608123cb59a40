// The background (Chromium: service worker; Firefox: event page). It may be stopped at any time, so every
// listener is registered at top level and nothing lives only in memory: settings are in storage.local, the
// host's status is mirrored to storage.session, the policy and feedback live in the host's data folder.
import { api, setBadge } from "../shared/browser";
import { PAGE_PORT, type BgToCsPort, type ClassifyResult, type CsToBg, type CsToBgPort, type HostStatus, type UiToBg } from "../shared/messages";
import type { HostReply, Post, Verdict } from "../shared/protocol";
import { saveSettings } from "../shared/settings";
import type { Engine } from "./engine";
import { downsizeImage, hostJudgesImages } from "./images";
import { FallbackEngine } from "./fallback-engine";
import { NativeEngine } from "./native-engine";
import { TodayRecorder } from "./today-recorder";
import { sanitizeFeedbackKind, sanitizeImageBudget, sanitizePost, sanitizePosts, sanitizeRule } from "./validate";

// The native host, with the in-browser WASM engine standing in while the host is missing or down (issue 4).
const engine: Engine = new FallbackEngine(new NativeEngine());
const REQUEST_TIMEOUT_MS = 15_000;
/** How long posts with images wait for the host's `hello`, which says whether it judges images (right after
 * the browser starts, the host is still loading its models). The posts without images do not wait. As long
 * as a request's own timeout: a host that has not said hello would not answer the request sooner anyway. */
const HELLO_WAIT_MS = REQUEST_TIMEOUT_MS;
const helloWaiters = new Set<() => void>();
/** The popup's record of what was judged and filtered today (storage.local, on this machine only). */
const today = new TodayRecorder();

engine.onStatusChange((s: HostStatus) => {
  void api.storage.session?.set({ hostStatus: s }).catch(() => {});
  if (s.state !== "connecting") for (const wake of [...helloWaiters]) wake();
  if (s.state === "connected") setBadge("", "#000000");
  else if (s.state === "not-installed" || s.state === "model-unavailable") setBadge("!", "#b00020");
  else if (s.state === "disconnected" || s.state === "error") setBadge("…", "#8a6d00");
});

// ---- untrusted half: content scripts --------------------------------------------------------------------

function senderSite(sender: chrome.runtime.MessageSender): string | null {
  try {
    return sender.url ? new URL(sender.url).hostname : null;
  } catch {
    return null;
  }
}

/** Resolves once the engine knows whether the host answered `hello` (or stopped trying), at most after
 * HELLO_WAIT_MS. */
function engineSettled(): Promise<void> {
  if (engine.status().state !== "connecting") return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      helloWaiters.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, HELLO_WAIT_MS);
    helloWaiters.add(wake);
  });
}

/** The posts with their images downsized to data URLs when the host judges images. Decided after the host's
 * `hello` (waited for while it starts), so that the first page after a browser start is judged with its
 * images too. */
async function withImages(posts: Post[]): Promise<Post[]> {
  if (!posts.some((p) => p.images?.length)) return posts;
  await engineSettled();
  if (!hostJudgesImages(engine.status().hello)) return posts; // the text decides
  return Promise.all(
    posts.map(async (p) => {
      if (!p.images?.length) return p;
      const site = p.site ?? "";
      const images = await Promise.all(p.images.map((u) => downsizeImage(u, site).catch(() => u)));
      return { ...p, images };
    }),
  );
}

/** Posts without images first, then those with images (each part only when not empty). */
function splitByImages(posts: Post[]): Post[][] {
  const imaged = posts.filter((p) => p.images?.length);
  const textOnly = posts.filter((p) => !p.images?.length);
  return [textOnly, imaged].filter((part) => part.length > 0);
}

/** Judge a page's posts. `onUpdate` receives the later full verdict of any post answered with
 * `images_pending: true` (the native engine routes the host's `verdict.update` frames to it). */
async function classify(posts: Post[], budget: number | null, onUpdate: (v: Verdict) => void, origin: string): Promise<ClassifyResult> {
  const t0 = performance.now();
  try {
    const req = { type: "classify" as const, posts: await withImages(posts), ...(budget === null ? {} : { image_budget_ms: budget }) };
    const recordingUpdate = (v: Verdict) => {
      today.record(posts, [v]);
      onUpdate(v);
    };
    const reply = await engine.request(req, { timeoutMs: REQUEST_TIMEOUT_MS, onUpdate: recordingUpdate, origin });
    if (reply.type === "verdicts") {
      today.record(posts, reply.verdicts);
      return { ok: true, verdicts: reply.verdicts, elapsedMs: reply.elapsed_ms, backgroundMs: performance.now() - t0 };
    }
    return { ok: false, error: errorText(reply), state: engine.status().state };
  } catch (e) {
    return { ok: false, error: String((e as Error).message ?? e), state: engine.status().state };
  }
}

/** One port per page (content script): posts to judge and their verdicts, then verdict updates, without
 * opening a new message channel per batch (measured in docs/benchmarks.md). */
function onPagePort(port: chrome.runtime.Port): void {
  if (port.name !== PAGE_PORT) return;
  const sender = port.sender;
  const site = sender ? senderSite(sender) : null;
  if (!sender || sender.id !== api.runtime.id || !site) {
    port.disconnect();
    return;
  }
  const origin = `tab ${sender.tab?.id ?? "?"} frame ${sender.frameId ?? 0}`;
  let open = true;
  const post = (m: BgToCsPort) => {
    if (!open) return;
    try {
      port.postMessage(m);
    } catch {
      open = false; // the page went away; pending updates for it are dropped by the engine's bounds
    }
  };
  port.onDisconnect.addListener(() => {
    open = false;
    // The page went away: the host drops the work still waiting for its posts (the VLM's queue).
    engine.cancelOrigin(origin);
  });
  port.onMessage.addListener((raw: unknown) => {
    const msg = raw as Partial<CsToBgPort> | null;
    if (!msg || msg.type !== "cs.classify" || typeof msg.batch !== "number") return;
    const batch = msg.batch;
    const arrived = performance.timeOrigin + performance.now();
    const posts = sanitizePosts(msg.posts, site); // `site` from the browser: the page cannot claim another
    if (!posts) {
      const ids = Array.isArray(msg.posts) ? msg.posts.map((p) => String((p as { id?: unknown })?.id)) : [];
      post({ type: "bg.verdicts", batch, ids, result: { ok: false, error: "malformed posts", state: engine.status().state } });
      return;
    }
    const budget = sanitizeImageBudget(msg.imageBudgetMs);
    const onUpdate = (verdict: Verdict) => post({ type: "bg.verdict.update", verdict });
    // Posts with images wait for the host's hello and their download and downsizing; the others are judged
    // meanwhile.
    for (const part of splitByImages(posts)) {
      void classify(part, budget, onUpdate, origin).then((result) => {
        if (result.ok) result.backgroundSpan = [arrived, performance.timeOrigin + performance.now()];
        post({ type: "bg.verdicts", batch, ids: part.map((p) => p.id), result });
      });
    }
  });
}

async function handleContent(msg: CsToBg, sender: chrome.runtime.MessageSender): Promise<unknown> {
  const site = senderSite(sender);
  if (!site) return { ok: false, error: "unknown sender" };
  switch (msg.type) {
    case "cs.feedback": {
      const post = sanitizePost(msg.post, site);
      const kind = sanitizeFeedbackKind(msg.kind);
      const rule = msg.rule === null ? null : sanitizeRule(msg.rule);
      if (!post || !kind || (msg.rule !== null && !rule)) return { ok: false, error: "malformed feedback" };
      post.images = undefined;
      try {
        const reply = await engine.request(
          { type: "feedback", post, kind, ...(rule ? { rule } : {}) },
          { timeoutMs: REQUEST_TIMEOUT_MS },
        );
        if (reply.type === "feedback") {
          // Verdicts change after feedback: tell pages to judge what they show again.
          await bumpPolicyVersion();
          return { ok: true, feedbackId: reply.feedback_id };
        }
        return { ok: false, error: errorText(reply) };
      } catch (e) {
        return { ok: false, error: String((e as Error).message ?? e) };
      }
    }
    default:
      return { ok: false, error: "unknown message" };
  }
}

// ---- trusted half: the extension's own pages ------------------------------------------------------------

async function bumpPolicyVersion(): Promise<void> {
  const got = await api.storage.local.get("policyVersion");
  await api.storage.local.set({ policyVersion: (Number(got.policyVersion) || 0) + 1 });
}

function errorText(r: HostReply): string {
  return r.type === "error" ? `${r.message}${r.detail ? ` (${r.detail})` : ""}` : `unexpected reply ${r.type}`;
}

async function ask(req: Parameters<Engine["request"]>[0]): Promise<HostReply> {
  return engine.request(req, { timeoutMs: REQUEST_TIMEOUT_MS });
}

async function handleUi(msg: UiToBg): Promise<unknown> {
  try {
    switch (msg.type) {
      case "ui.status":
        return engine.status();
      case "ui.reconnect":
        engine.reconnect();
        return engine.status();
      case "ui.stats": {
        const r = await ask({ type: "stats" });
        return r.type === "stats" ? { ok: true, stats: r } : { ok: false, error: errorText(r) };
      }
      case "ui.policy.get": {
        const r = await ask({ type: "policy.get" });
        return r.type === "policy" ? { ok: true, policy: r } : { ok: false, error: errorText(r) };
      }
      case "ui.policy.set": {
        const r = await ask({ type: "policy.set", source: String(msg.source) });
        if (r.type === "policy" && r.applied) await bumpPolicyVersion();
        return r.type === "policy" ? { ok: true, policy: r } : { ok: false, error: errorText(r) };
      }
      case "ui.policy.validate": {
        const r = await ask({ type: "policy.validate", source: String(msg.source) });
        return r.type === "policy.validation" ? { ok: true, validation: r } : { ok: false, error: errorText(r) };
      }
      case "ui.settings.set":
        return { ok: true, settings: await saveSettings(msg.settings) };
      default:
        return { ok: false, error: "unknown message" };
    }
  } catch (e) {
    return { ok: false, error: String((e as Error).message ?? e) };
  }
}

function isExtensionPage(sender: chrome.runtime.MessageSender): boolean {
  const base = api.runtime.getURL("");
  return sender.id === api.runtime.id && typeof sender.url === "string" && sender.url.startsWith(base);
}

api.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  if (!msg || typeof msg !== "object" || typeof (msg as { type?: unknown }).type !== "string") return false;
  const type = (msg as { type: string }).type;
  let p: Promise<unknown>;
  if (type.startsWith("ui.")) {
    if (!isExtensionPage(sender)) return false; // a content script may not drive the UI half
    p = handleUi(msg as UiToBg);
  } else if (type.startsWith("cs.")) {
    if (sender.id !== api.runtime.id) return false;
    p = handleContent(msg as CsToBg, sender);
  } else {
    return false;
  }
  p.then(sendResponse, (e) => sendResponse({ ok: false, error: String(e) }));
  return true;
});

api.runtime.onConnect.addListener(onPagePort);

api.runtime.onInstalled.addListener(() => {
  void api.storage.local.get("policyVersion").then((g) => {
    if (g.policyVersion === undefined) void api.storage.local.set({ policyVersion: 0 });
  });
});

// Start the host right away so the first posts do not wait for it to load its model.
engine.reconnect();
