// The browser side of `verdict.update` without a browser: the extension's real NativeEngine
// (extension/src/background/native-engine.ts, bundled with esbuild) talks to a scripted host port. A classify
// reply with `images_pending: true` on some posts leaves a pending entry; the host's later `verdict.update`
// frames reach the callback of the request that asked, and only for posts that were announced; the table
// is bounded, expires, and is dropped when the host goes away. Needs no model, host or browser.
import assert from "node:assert/strict";
import { afterEach, before, beforeEach, describe, mock, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";

/** A fake `chrome.runtime` whose connectNative port records what the extension sends. */
function fakeChrome() {
  const ports = [];
  const chrome = {
    runtime: {
      id: "test",
      lastError: undefined,
      connectNative() {
        const listeners = { message: [], disconnect: [] };
        const port = {
          sent: [],
          postMessage: (m) => port.sent.push(structuredClone(m)),
          disconnect() {},
          onMessage: { addListener: (f) => listeners.message.push(f) },
          onDisconnect: { addListener: (f) => listeners.disconnect.push(f) },
          /** The host writes a frame. */
          hostWrites: (m) => listeners.message.forEach((f) => f(structuredClone(m))),
          hostExits: () => listeners.disconnect.forEach((f) => f()),
        };
        ports.push(port);
        return port;
      },
    },
  };
  return { chrome, ports };
}

let NativeEngine;
let MAX_PENDING_UPDATE_POSTS;
let PENDING_UPDATE_TIMEOUT_MS;

// The extension reads `chrome` when its module loads: one fake for the whole file, a new port per connect.
const fake = fakeChrome();
globalThis.chrome = fake.chrome;

before(async () => {
  const mod = await importExtensionModule("src/background/native-engine.ts");
  ({ NativeEngine, MAX_PENDING_UPDATE_POSTS, PENDING_UPDATE_TIMEOUT_MS } = mod);
});

const verdict = (id, action, extra = {}) => ({ id, action, rule: action === "show" ? null : "rage-bait", scores: { "rage-bait": action === "show" ? 0.1 : 0.95 }, reason: `${action} ${id}`, cached: false, ...extra });

describe("verdict.update routing in the native engine", () => {
  let port;
  let engine;
  // Timers are simulated (mock.timers), so the backoff and expiry timers never keep the process alive.
  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "Date"] });
    engine = new NativeEngine("org.feedwarden.host");
    engine.reconnect();
    port = fake.ports.at(-1);
    const hello = port.sent.find((m) => m.type === "hello");
    port.hostWrites({ type: "hello", request_id: hello.request_id, protocol: 1, host: "feedwarden-host", version: "test", ready: true, error: null, provider: "CPU", models: [], heads: [], policy: { name: "t", hash: "", rules: 0 }, data_dir: "", uptime_ms: 0 });
    assert.equal(engine.status().state, "connected");
  });
  afterEach(() => mock.timers.reset());

  /** Send a classify request from `origin`; returns its request id, the reply promise and the updates it gets. */
  function classify(postIds, origin, opts = {}) {
    const updates = [];
    const reply = engine.request({ type: "classify", posts: postIds.map((id) => ({ id, text: `post ${id}` })), ...opts }, { timeoutMs: 5000, origin, onUpdate: (v) => updates.push(v) });
    const req = port.sent.at(-1);
    assert.equal(req.type, "classify");
    return { requestId: req.request_id, reply, updates, req };
  }

  test("an update reaches the request that asked, once, only for a post announced as pending", async () => {
    const a = classify(["a1", "a2"], "tab 1 frame 0", { image_budget_ms: 0 });
    assert.equal(a.req.image_budget_ms, 0, "the image budget is sent to the host as given");
    const b = classify(["b1"], "tab 2 frame 0");
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("a1", "show", { images_pending: true }), verdict("a2", "show")] });
    port.hostWrites({ type: "verdicts", request_id: b.requestId, elapsed_ms: 1, verdicts: [verdict("b1", "show", { images_pending: true })] });
    assert.equal((await a.reply).verdicts[0].images_pending, true);
    await b.reply;
    assert.equal(engine.pendingUpdateCount(), 2);
    // a2 was never announced; an unknown request id and a post of another request are ignored.
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("a2", "blur") });
    port.hostWrites({ type: "verdict.update", request_id: 999, verdict: verdict("a1", "blur") });
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("b1", "blur") });
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: { action: "blur" } });
    assert.deepEqual(a.updates, []);
    assert.deepEqual(b.updates, []);
    port.hostWrites({ type: "verdict.update", request_id: b.requestId, verdict: verdict("b1", "hide", { images_pending: false, images: [{ text: "THEY WANT YOU ANGRY" }] }) });
    assert.deepEqual(b.updates.map((v) => [v.id, v.action, v.images[0].text]), [["b1", "hide", "THEY WANT YOU ANGRY"]]);
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("a1", "blur", { images_pending: false }) });
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("a1", "hide", { images_pending: false }) });
    assert.deepEqual(a.updates.map((v) => [v.id, v.action]), [["a1", "blur"]], "the first update counts, a repeat is ignored");
    assert.equal(engine.pendingUpdateCount(), 0);
  });

  test("an update that is still pending (the VLM follows) keeps the post waiting for the last one", async () => {
    const a = classify(["v1"], "tab 1 frame 0", { image_budget_ms: 0 });
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("v1", "show", { images_pending: true })] });
    await a.reply;
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("v1", "show", { images_pending: true }) });
    assert.equal(engine.pendingUpdateCount(), 1, "the image thread's update announced the VLM's");
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("v1", "blur", { images_pending: false }) });
    assert.deepEqual(a.updates.map((v) => [v.action, v.images_pending]), [["show", true], ["blur", false]]);
    assert.equal(engine.pendingUpdateCount(), 0);
  });

  test("a page that goes away cancels its requests' remaining work on the host", async () => {
    const a = classify(["c1", "c2"], "tab 7 frame 0");
    const b = classify(["k1"], "tab 8 frame 0");
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("c1", "show", { images_pending: true }), verdict("c2", "show", { images_pending: true })] });
    port.hostWrites({ type: "verdicts", request_id: b.requestId, elapsed_ms: 1, verdicts: [verdict("k1", "show", { images_pending: true })] });
    await a.reply;
    await b.reply;
    assert.equal(engine.cancelOrigin("tab 7 frame 0"), 1);
    const sent = port.sent.at(-1);
    assert.deepEqual([sent.type, sent.requests], ["cancel", [a.requestId]]);
    assert.equal(engine.pendingUpdateCount(), 1, "only the other tab's post still waits");
    port.hostWrites({ type: "cancelled", request_id: sent.request_id, posts: 2 });
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("c1", "blur") });
    assert.deepEqual(a.updates, [], "nothing reaches a page that went away");
    assert.equal(engine.cancelOrigin("tab 7 frame 0"), 0, "nothing left to cancel: nothing sent");
    assert.equal(port.sent.at(-1), sent);
  });

  test("a request without pending images leaves nothing behind", async () => {
    const a = classify(["x"], "tab 1 frame 0");
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("x", "hide", { images_pending: false })] });
    await a.reply;
    assert.equal(engine.pendingUpdateCount(), 0);
  });

  test("bounded: the oldest requests' pending posts are dropped first", async () => {
    const per = 100;
    const reqs = [];
    for (let r = 0; r * per <= MAX_PENDING_UPDATE_POSTS; r++) {
      const ids = Array.from({ length: per }, (_, i) => `r${r}p${i}`);
      const c = classify(ids, `tab ${r} frame 0`);
      port.hostWrites({ type: "verdicts", request_id: c.requestId, elapsed_ms: 1, verdicts: ids.map((id) => verdict(id, "show", { images_pending: true })) });
      await c.reply;
      reqs.push(c);
    }
    assert.ok(engine.pendingUpdateCount() <= MAX_PENDING_UPDATE_POSTS, `${engine.pendingUpdateCount()} pending`);
    port.hostWrites({ type: "verdict.update", request_id: reqs[0].requestId, verdict: verdict("r0p0", "blur") });
    assert.deepEqual(reqs[0].updates, [], "the oldest request was dropped");
    const last = reqs.at(-1);
    port.hostWrites({ type: "verdict.update", request_id: last.requestId, verdict: verdict(`r${reqs.length - 1}p0`, "blur") });
    assert.equal(last.updates.length, 1, "the newest request still gets its update");
  });

  test("expires after PENDING_UPDATE_TIMEOUT_MS", async () => {
    const a = classify(["late"], "tab 1 frame 0");
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("late", "show", { images_pending: true })] });
    await a.reply;
    mock.timers.tick(PENDING_UPDATE_TIMEOUT_MS - 10_000);
    assert.equal(engine.pendingUpdateCount(), 1, "still waiting before the timeout");
    mock.timers.tick(20_000);
    assert.equal(engine.pendingUpdateCount(), 0);
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("late", "blur") });
    assert.deepEqual(a.updates, []);
  });

  test("the host going away drops what it owed (pages send those posts again themselves)", async () => {
    const a = classify(["gone"], "tab 1 frame 0");
    port.hostWrites({ type: "verdicts", request_id: a.requestId, elapsed_ms: 1, verdicts: [verdict("gone", "show", { images_pending: true })] });
    await a.reply;
    port.hostExits();
    assert.equal(engine.pendingUpdateCount(), 0);
    port.hostWrites({ type: "verdict.update", request_id: a.requestId, verdict: verdict("gone", "blur") });
    assert.deepEqual(a.updates, []);
  });
});
