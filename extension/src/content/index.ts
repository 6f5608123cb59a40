// The content script: common to every site. Finds posts with the site's adapter, holds each one in a
// neutral pending look until its verdict comes (or a short timeout passes), batches new posts to the
// background over one long-lived port, applies verdicts (hide / blur / label, and on every judged post a
// small menu with "why" and feedback: ui.ts) and later verdict updates (a post's images judged after its
// text), and follows infinite scroll and single-page navigation with one MutationObserver.
import { adapterFor } from "../adapters";
import type { SiteAdapter } from "../adapters/types";
import { api, contextAlive, isContextInvalidated } from "../shared/browser";
import { PAGE_PORT, type BgToCsPort, type ClassifyResult, type CsToBg, type CsToBgPort, type FeedbackResult } from "../shared/messages";
import type { FeedbackKind, Post, Verdict } from "../shared/protocol";
import { normalizeSettings, SETTINGS_KEY, type Settings } from "../shared/settings";
import { pageCss, STATE_ATTR, UI_TAG } from "./styles";
import { isWhyOpen, removeUi, renderUi } from "./ui";

interface Tracked {
  id: string;
  el: Element;
  post: Post;
  key: string;
  verdict: Verdict | null;
  revealed: boolean;
  sentAt: number;
  attempts: number;
  /** Times this post was sent again because its images' verdict never came. */
  imageResends: number;
}

/** A batch sent over the port and not answered yet. */
interface InFlightBatch {
  posts: Tracked[];
  /** Sent again once already after the port closed under it (the service worker was stopped). */
  resent: boolean;
}

const BATCH = 64;
const CACHE_MAX = 2000;
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];
/** A post answered with `images_pending` whose update has not come after this long is sent again (once):
 * the host or the service worker restarted in between and the update was lost. */
const IMAGE_UPDATE_WAIT_MS = 30_000;

class Warden {
  private style: HTMLStyleElement;
  private observer: MutationObserver | null = null;
  private settings: Settings | null = null;
  private byEl = new WeakMap<Element, Tracked>();
  private tracked = new Map<string, Tracked>();
  private verdictCache = new Map<string, Verdict>();
  private queue = new Set<Tracked>();
  private recheck = new Set<Element>();
  private flushScheduled = false;
  private nextId = 1;
  private dead = false;
  private active = false;
  private retryStep = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private port: chrome.runtime.Port | null = null;
  private nextBatch = 1;
  private inflight = new Map<number, InFlightBatch>();
  private metrics = { posts: 0, costMs: 0, sent: 0, verdicts: 0, updates: 0, late: 0 };

  constructor(private a: SiteAdapter) {
    // Synchronously, before the page paints any post: unjudged posts get the pending look.
    this.style = document.createElement("style");
    this.style.id = "feedwarden-style";
    this.style.textContent = pageCss(a, "hidden");
    (document.head ?? document.documentElement).append(this.style);
    this.start();
  }

  private start(): void {
    this.observer = new MutationObserver((records) => this.onMutations(records));
    this.observer.observe(document, { childList: true, subtree: true });
    this.scan(document);
    void api.storage.local
      .get([SETTINGS_KEY])
      .then((got) => this.applySettings(normalizeSettings(got[SETTINGS_KEY])))
      .catch((e) => this.onError(e));
    api.storage.onChanged.addListener(this.onStorage);
  }

  private onStorage = (changes: Record<string, chrome.storage.StorageChange>, area: string): void => {
    if (!contextAlive()) return this.teardown();
    if (area !== "local") return;
    if (changes[SETTINGS_KEY]) this.applySettings(normalizeSettings(changes[SETTINGS_KEY].newValue));
    if (changes.policyVersion) this.rejudgeAll();
  };

  private applySettings(s: Settings): void {
    const wasActive = this.active;
    this.settings = s;
    this.active = !s.paused && s.sites[this.a.id];
    if (!this.active) {
      this.showEverything();
      return;
    }
    this.style.textContent = pageCss(this.a, s.pendingStyle);
    if (!wasActive) {
      // (Re)judge everything on the page.
      for (const el of document.querySelectorAll(this.a.post)) this.consider(el, true);
      this.scheduleFlush();
    }
  }

  /** Paused, disabled for this site, or the extension went away: every post shows as the site made it. */
  private showEverything(): void {
    this.style.textContent = "";
    for (const t of this.tracked.values()) {
      t.el.removeAttribute(STATE_ATTR);
      t.el.removeAttribute("data-fw-revealed");
      removeUi(t.el);
    }
    this.tracked.clear();
    this.byEl = new WeakMap();
    this.queue.clear();
  }

  private teardown(): void {
    if (this.dead) return;
    this.dead = true;
    this.observer?.disconnect();
    try {
      this.port?.disconnect();
    } catch {
      /* context gone */
    }
    this.port = null;
    this.inflight.clear();
    this.showEverything();
    this.style.remove();
    try {
      api.storage.onChanged.removeListener(this.onStorage);
    } catch {
      /* context gone */
    }
  }

  private onError(e: unknown): void {
    if (isContextInvalidated(e) || !contextAlive()) this.teardown();
  }

  // ---- finding posts -------------------------------------------------------------------------------------

  private onMutations(records: MutationRecord[]): void {
    if (this.dead) return;
    const t0 = performance.now();
    const sel = this.a.post;
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) {
          if (n.nodeType === 3 && r.target.nodeType === 1) this.markChanged(r.target as Element);
          continue;
        }
        const e = n as Element;
        if (e.localName === UI_TAG || e.id === "feedwarden-style") continue;
        if (e.matches(sel)) this.consider(e, false);
        else {
          if (e.firstElementChild) for (const p of e.querySelectorAll(sel)) this.consider(p, false);
          this.markChanged(e);
        }
      }
    }
    for (const el of this.recheck) this.consider(el, false);
    this.recheck.clear();
    this.metrics.costMs += performance.now() - t0;
    this.scheduleFlush();
  }

  /** Something changed inside a post we already know (text loaded, React reused the element). */
  private markChanged(e: Element): void {
    const p = e.parentElement?.closest(this.a.post);
    if (p) this.recheck.add(p);
  }

  private scan(root: ParentNode): void {
    for (const el of root.querySelectorAll(this.a.post)) this.consider(el, false);
    this.scheduleFlush();
  }

  private consider(el: Element, force: boolean): void {
    if (!this.active && this.settings) return;
    const prev = this.byEl.get(el);
    const x = this.a.extract(el);
    if (!x) return; // not a post yet: stays in the pending look until its content arrives
    // What the verdict depends on: two posts with the same text but different images are judged apart.
    const key = `${x.author ?? ""}\u0001${x.text}\u0001${x.quoted_text ?? ""}\u0001${x.images?.join(" ") ?? ""}`;
    if (prev && prev.key === key && !force) return;
    if (prev) this.tracked.delete(prev.id);
    const id = `fw${this.nextId++}`;
    const post: Post = { id, text: x.text };
    if (x.quoted_text) post.quoted_text = x.quoted_text;
    if (x.author) post.author = x.author;
    if (x.author_followed !== undefined) post.author_followed = x.author_followed;
    if (x.images?.length) post.images = x.images;
    if (x.url) post.url = x.url;
    if (x.created_at) post.created_at = x.created_at;
    const t: Tracked = { id, el, post, key, verdict: null, revealed: false, sentAt: 0, attempts: 0, imageResends: 0 };
    this.byEl.set(el, t);
    this.tracked.set(id, t);
    el.setAttribute("data-fw-id", id);
    this.metrics.posts++;
    const cached = force ? undefined : this.verdictCache.get(key);
    if (cached) {
      this.apply(t, cached);
      return;
    }
    if (!prev?.verdict) el.setAttribute(STATE_ATTR, "pending");
    this.queue.add(t);
  }

  // ---- talking to the background -------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.queue.size || !this.settings) return;
    this.flushScheduled = true;
    // A microtask, not setTimeout(0): the mutations of one task arrive in one observer callback anyway, so
    // batching is the same, and a timer task waits behind the page's own work (measured: 47 ms p50 from
    // insert to send with setTimeout(0) on the saved x.com page).
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.dead || !this.active) return;
    if (!contextAlive()) return this.teardown();
    const all = [...this.queue].filter((t) => t.el.isConnected && this.tracked.get(t.id) === t);
    this.queue.clear();
    for (let i = 0; i < all.length; i += BATCH) this.send(all.slice(i, i + BATCH));
    this.sweep();
  }

  private send(batch: Tracked[]): void {
    const now = performance.now();
    for (const t of batch) {
      t.sentAt = now;
      t.attempts++;
      if (this.settings?.metrics) {
        t.el.setAttribute("data-fw-sent", String(now));
        t.el.setAttribute("data-fw-sent-wall", String(performance.timeOrigin + now));
      }
    }
    this.metrics.sent += batch.length;
    const timeout = this.settings?.pendingTimeoutMs ?? 1500;
    setTimeout(() => {
      for (const t of batch) if (!t.verdict && t.el.getAttribute(STATE_ATTR) === "pending") this.late(t);
    }, timeout);
    this.post(this.nextBatch++, { posts: batch, resent: false });
  }

  /** The port to the background, opened on first use and again after it closed (the service worker was
   * stopped, or the extension reloaded). One port instead of a message channel per batch: see
   * docs/benchmarks.md (page ↔ service worker hop). */
  private openPort(): chrome.runtime.Port | null {
    if (this.port) return this.port;
    if (!contextAlive()) {
      this.teardown();
      return null;
    }
    let port: chrome.runtime.Port;
    try {
      port = api.runtime.connect({ name: PAGE_PORT });
    } catch (e) {
      this.onError(e);
      return null;
    }
    this.port = port;
    port.onMessage.addListener((m: unknown) => this.onPortMessage(m as BgToCsPort));
    port.onDisconnect.addListener(() => {
      if (this.port === port) this.onPortClosed();
    });
    return port;
  }

  private post(batchId: number, b: InFlightBatch): void {
    const msg: CsToBgPort = {
      type: "cs.classify",
      batch: batchId,
      posts: b.posts.map((t) => t.post),
      imageBudgetMs: this.settings?.imageBudgetMs ?? null,
    };
    const port = this.openPort();
    if (!port) return this.onVerdicts(b.posts, { ok: false, error: "no extension context", state: "disconnected" });
    this.inflight.set(batchId, b);
    try {
      port.postMessage(msg);
    } catch {
      // The port closed before its disconnect event reached us: open another and send there.
      this.port = null;
      this.onPortClosed();
    }
  }

  /** The background went away with batches unanswered: send each once more on a new port, then give up on
   * them (shown late, sent again later with backoff). */
  private onPortClosed(): void {
    this.port = null;
    if (this.dead) return;
    if (!contextAlive()) return this.teardown();
    const pending = [...this.inflight];
    this.inflight.clear();
    for (const [id, b] of pending) {
      if (!b.resent) this.post(id, { posts: b.posts, resent: true });
      else this.onVerdicts(b.posts, { ok: false, error: "the background stopped", state: "disconnected" });
    }
  }

  private onPortMessage(m: BgToCsPort): void {
    if (this.dead || !m || typeof m !== "object") return;
    if (m.type === "bg.verdicts") {
      const b = this.inflight.get(m.batch);
      if (!b) return;
      // The answer may cover part of the batch (posts with images come later); the rest stays in flight.
      const ids = new Set(Array.isArray(m.ids) ? m.ids : []);
      const answered = b.posts.filter((t) => ids.has(t.id));
      b.posts = b.posts.filter((t) => !ids.has(t.id));
      if (!b.posts.length) this.inflight.delete(m.batch);
      this.onVerdicts(answered, m.result);
    } else if (m.type === "bg.verdict.update") {
      this.onVerdictUpdate(m.verdict);
    }
  }

  /** A post's full verdict once its images were judged: applied in place of its text-only verdict. */
  private onVerdictUpdate(v: Verdict): void {
    const t0 = performance.now();
    const t = v && typeof v.id === "string" ? this.tracked.get(v.id) : undefined;
    // Only a post still showing a verdict that announced this update (not one judged again since).
    if (!t || !t.verdict?.images_pending || !t.el.isConnected) return;
    this.metrics.updates++;
    this.apply(t, v);
    this.metrics.costMs += performance.now() - t0;
    this.publishMetrics();
  }

  private onVerdicts(batch: Tracked[], res: ClassifyResult | undefined): void {
    if (this.dead) return;
    const t0 = performance.now();
    if (res && res.ok) {
      this.retryStep = 0;
      const byId = new Map(res.verdicts.map((v) => [v.id, v]));
      if (this.settings?.metrics) {
        for (const t of batch) {
          t.el.setAttribute("data-fw-host-ms", String(res.elapsedMs ?? ""));
          t.el.setAttribute("data-fw-bg-ms", String(res.backgroundMs ?? ""));
          t.el.setAttribute("data-fw-received", String(t0));
          t.el.setAttribute("data-fw-received-wall", String(performance.timeOrigin + t0));
          if (res.backgroundSpan) t.el.setAttribute("data-fw-bg-span", res.backgroundSpan.join(" "));
        }
      }
      for (const t of batch) {
        const v = byId.get(t.id);
        if (v && this.tracked.get(t.id) === t) this.apply(t, v);
      }
    } else {
      // No verdict (host missing, restarting, or the service worker was stopped mid-request): show the
      // posts now rather than hold the page back, and send them again after a backoff.
      for (const t of batch) if (!t.verdict) this.late(t);
      if (!res || res.state !== "not-installed" || this.retryStep < RETRY_MS.length) {
        const delay = RETRY_MS[Math.min(this.retryStep++, RETRY_MS.length - 1)];
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          for (const t of this.tracked.values()) if (!t.verdict && t.el.isConnected) this.queue.add(t);
          this.flush();
        }, delay);
      }
    }
    this.metrics.costMs += performance.now() - t0;
    this.publishMetrics();
  }

  private late(t: Tracked): void {
    if (t.verdict) return;
    t.el.setAttribute(STATE_ATTR, "late");
    this.metrics.late++;
  }

  private rejudgeAll(): void {
    if (!this.active) return;
    this.verdictCache.clear();
    for (const t of this.tracked.values()) if (t.el.isConnected) this.queue.add(t);
    this.scheduleFlush();
  }

  /** Forget posts that left the page (virtualised feeds drop them as you scroll). */
  private sweep(): void {
    if (this.tracked.size < 200) return;
    for (const [id, t] of this.tracked) if (!t.el.isConnected) this.tracked.delete(id);
  }

  // ---- applying verdicts ---------------------------------------------------------------------------------

  private apply(t: Tracked, v: Verdict): void {
    const before = t.verdict;
    t.verdict = v;
    this.metrics.verdicts++;
    if (v.images_pending) this.awaitImageUpdate(t, v);
    else {
      // Only final verdicts are reused for an identical post elsewhere on the page.
      this.verdictCache.delete(t.key);
      this.verdictCache.set(t.key, v);
      if (this.verdictCache.size > CACHE_MAX) this.verdictCache.delete(this.verdictCache.keys().next().value!);
    }
    const el = t.el;
    // Attributes are only written when they change, so an update that keeps the action restyles nothing.
    const state = v.action === "allow" ? "show" : v.action;
    if (el.getAttribute(STATE_ATTR) !== state) el.setAttribute(STATE_ATTR, state);
    // The rule and the reason stay out of the page's DOM (the page could read them): they live in the closed
    // shadow root only. The state attribute carries the action, which the page CSS needs.
    if (v.images_pending) el.setAttribute("data-fw-images-pending", "");
    else el.removeAttribute("data-fw-images-pending");
    if (this.settings?.metrics) el.setAttribute("data-fw-t", String(performance.now()));
    // Every judged post gets the UI (shown ones: only the small menu with "Why?" and "Hide more like this").
    // Same action as before (an update that only adds the image text): keep the "why" panel as it was.
    this.render(t, before?.action === v.action && isWhyOpen(el));
  }

  /** If the update announced by `v.images_pending` never comes (host or service worker restarted), send
   * the post again once. */
  private awaitImageUpdate(t: Tracked, v: Verdict): void {
    setTimeout(() => {
      if (this.dead || t.verdict !== v || this.tracked.get(t.id) !== t || !t.el.isConnected || t.imageResends >= 1) return;
      t.imageResends++;
      this.queue.add(t);
      this.scheduleFlush();
    }, IMAGE_UPDATE_WAIT_MS);
  }

  private render(t: Tracked, whyOpen = false): void {
    if (!t.verdict) return;
    if (t.revealed) t.el.setAttribute("data-fw-revealed", "");
    else t.el.removeAttribute("data-fw-revealed");
    renderUi(
      t.el,
      t.verdict,
      t.revealed,
      {
        reveal: () => {
          t.revealed = true;
          this.render(t);
        },
        rehide: () => {
          t.revealed = false;
          this.render(t);
        },
        feedback: (kind) => this.feedback(t, kind),
      },
      whyOpen,
    );
  }

  private async feedback(t: Tracked, kind: FeedbackKind): Promise<boolean> {
    const { id: _id, ...rest } = t.post;
    // A correction is about the rule that filtered the post. On a shown or allowed post no filtering rule
    // decided: "hide more like this" then goes to every rule (`rule` omitted in the host's protocol), never
    // to the allow rule that let it through.
    const v = t.verdict;
    const filteredBy = v && (v.action === "hide" || v.action === "blur" || v.action === "label") ? v.rule : null;
    const msg: CsToBg = { type: "cs.feedback", post: { id: t.id, ...rest }, rule: filteredBy, kind };
    try {
      const res = (await api.runtime.sendMessage(msg)) as FeedbackResult | undefined;
      return !!res?.ok;
    } catch (e) {
      this.onError(e);
      return false;
    }
  }

  private publishMetrics(): void {
    if (!this.settings?.metrics) return;
    document.documentElement.setAttribute(
      "data-fw-metrics",
      JSON.stringify({ ...this.metrics, tracked: this.tracked.size, cache: this.verdictCache.size }),
    );
  }
}

const adapter = adapterFor(location.hostname);
if (adapter && !(globalThis as { __feedwarden?: boolean }).__feedwarden) {
  (globalThis as { __feedwarden?: boolean }).__feedwarden = true;
  new Warden(adapter);
}
