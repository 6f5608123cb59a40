// End-to-end, headless Chromium, NO native host installed: the extension judges posts with the in-browser
// WASM engine (issue 4), the popup says so, and when the host is installed and comes back the host takes
// over, takes over the reader's corrections given meanwhile, and the pages are judged again by it. Reuses the e2e helpers of tests/e2e (real extension build from
// extension/dist/chromium, local pages served from 127.0.0.1, never live sites).
//   node --test tests/wasm/chromium-fallback.test.mjs   (after ./setup.sh; scripts/test.sh runs it)
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXTENSION_ID, installHost, launchChromium, settled } from "../e2e/lib/chromium.mjs";
import { ChromiumClosedUi } from "../e2e/lib/closed-ui.mjs";
import { ARTIFACTS, EXT_CHROMIUM, skipReason } from "../e2e/lib/env.mjs";
import { assertMarkerPosts, E2E_POLICY } from "../e2e/lib/policy.mjs";
import { startServer } from "../e2e/lib/server.mjs";
import { query } from "../e2e/lib/sqlite.mjs";

const skip = skipReason() || (!existsSync(join(EXT_CHROMIUM, "wasm/feedwarden_wasm_bg.wasm")) && "extension built without the WASM engine (run wasm-classifier/build.sh, then the extension build)");
const REDDIT = "shreddit-post, shreddit-comment";
// The verdict UI lives in a closed shadow root: reached over CDP, clicked with the real mouse (closed-ui.mjs).
const BLURRED = 'shreddit-post[data-fw-state="blur"]';
const HIDDEN = 'shreddit-post[data-fw-state="hide"]';

test("no host: posts are filtered by the WASM engine, the popup says so; the host takes over when it returns", { skip, timeout: 180000 }, async () => {
  const server = await startServer();
  const b = await launchChromium({ server, policy: E2E_POLICY, registerHost: false, settings: { pendingTimeoutMs: 10000 } });
  try {
    // The policy the host last reported (the fallback keeps a copy); here: the E2E policy with user-defined rules.
    await b.sw.evaluate((src) => chrome.storage.local.set({ fallbackPolicySource: src }), E2E_POLICY);
    await b.waitForHost("not-installed", 15000);

    const page = await b.context.newPage();
    const t0 = Date.now();
    await page.goto("https://www.reddit.com/");
    const states = await settled(page, REDDIT, 20000);
    const judgedMs = Date.now() - t0;
    assertMarkerPosts(states, "judged by the fallback");
    assert.ok(states.every((s) => s.state !== "late"), `every post judged, none shown unjudged ${JSON.stringify(states)}`);
    const ui = await ChromiumClosedUi.attach(b.context, page);
    // The reader's own rule is named with its description (the verdict's `description`, as from the host).
    assert.match(
      await ui.text(BLURRED, "blur-reason"),
      /^Blurred by your rule “spiders”: posts about spiders, tarantulas and other arachnids \([01]\.\d\d\) · judged in the browser$/,
    );

    const popup = await b.context.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    await popup.waitForFunction(() => /Judging in the browser \(fallback\)/.test(document.querySelector("#status-text")?.textContent ?? ""), null, { timeout: 10000 });
    assert.match(await popup.textContent("#host"), /feedwarden-tiny-v8/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await popup.screenshot({ path: join(ARTIFACTS, "popup-fallback.png") });

    // "This was fine" on the hidden crypto post while the browser judges: the fallback keeps the correction
    // (and the post's text, for the host) and the post is no longer hidden. (The tiny model v3 puts this post's
    // manipulation score near the 0.8 label threshold — "the token sale is almost filled" reads as false urgency —
    // so it may be shown or labelled; either way the crypto rule no longer hides it.)
    await ui.click(HIDDEN, "why");
    await ui.click(HIDDEN, "feedback-fine");
    await page.waitForFunction(
      () => ["show", "label"].includes([...document.querySelectorAll("shreddit-post")].find((p) => p.textContent.includes("Bitcoin ETF inflows"))?.getAttribute("data-fw-state")),
      null,
      { timeout: 20000 },
    );
    const pending = await b.sw.evaluate(async () => (await chrome.storage.local.get("fallbackFeedback")).fallbackFeedback);
    assert.equal(pending?.length, 1, JSON.stringify(pending));
    assert.equal(pending[0].rule, "crypto");
    assert.equal(pending[0].model, "feedwarden-tiny-v7", "the row names its embedding, which v8 shares with v7");
    assert.match(pending[0].post?.text ?? "", /Bitcoin ETF inflows/, "the post waits in storage.local for the host");

    // The host is installed and comes back: it takes over and the page is judged again by it.
    installHost(b.userDataDir);
    await popup.click("#retry");
    await b.waitForHost("connected", 30000);
    const end = Date.now() + 45000;
    let reason = "";
    while (Date.now() < end) {
      reason = (await ui.text(BLURRED, "blur-reason").catch(() => "")) ?? "";
      if (reason && !/judged in the browser/.test(reason)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(reason, /^Blurred by your rule “spiders”/, "the host judged the page again after it came back");
    assert.doesNotMatch(reason, /judged in the browser/);
    // The correction given in fallback reached the host's SQLite, and the extension dropped its copy of the text.
    const db = join(b.dataDir, "feedwarden.sqlite3");
    let rows = [];
    for (const stop = Date.now() + 20000; Date.now() < stop && !rows.length; await new Promise((r) => setTimeout(r, 200))) {
      rows = existsSync(db) ? query(db, "SELECT rule, kind, text FROM feedback") : [];
    }
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [rule, kind, text] = rows[0];
    assert.equal(rule, "crypto");
    assert.equal(kind, "was_fine");
    assert.match(text, /Bitcoin ETF inflows/);
    const kept = await b.sw.evaluate(async () => (await chrome.storage.local.get("fallbackFeedback")).fallbackFeedback);
    assert.equal(kept?.length, 1, "the fallback keeps applying the correction");
    assert.equal(kept[0].post, undefined, "the post's text is dropped once the host has the correction");
    // The host's own verdict uses it: the crypto rule no longer hides the post. (Judge v2 reads "the token sale is
    // almost filled… load up before the next leg" as manipulation at about its 0.8 label threshold, so the host
    // shows or labels it; it must not hide it again.)
    const after = await settled(page, REDDIT, 20000);
    const state = after.find((x) => x.text.includes("Bitcoin ETF inflows"))?.state;
    assert.ok(["show", "label"].includes(state), JSON.stringify(after));
    await popup.reload();
    await popup.waitForFunction(() => !/fallback/.test(document.querySelector("#status-text")?.textContent ?? ""), null, { timeout: 10000 });
    console.log(`[fallback-e2e] reddit page judged by the WASM engine in ${judgedMs} ms (page load included)`);
  } finally {
    await b.close();
    await server.close();
  }
});
