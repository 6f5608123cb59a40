// End-to-end, headless Chromium: the built extension + the real native host (registered in the profile by
// `feedwarden install --user-data-dir`) + pages served from 127.0.0.1: real saved pages of x.com, Bluesky,
// YouTube, Threads and LinkedIn from ../shared/data (tests skip without them), and hand-written fixture pages
// in fixtures/ for Reddit, Mastodon and YouTube's comments (no real saved pages of those exist yet).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXTENSION_ID, installHost, launchChromium, settled } from "./lib/chromium.mjs";
import { ChromiumClosedUi } from "./lib/closed-ui.mjs";
import { ARTIFACTS, ROOT, skipReason, xPagesReason } from "./lib/env.mjs";
import {
  assertMarkerPosts,
  CALM_TEXT,
  CRYPTO_TEXT,
  E2E_POLICY,
  FRIEND_SPIDER_TEXT,
  RAGE_SIGN_LINES,
  RECIPE_TEXT,
  RIVER_TEXT,
  SPIDER_TEXT,
  STARTER_LATER_TEXT,
  STARTER_RECIPE_TEXT,
  STARTER_TEXT,
} from "./lib/policy.mjs";
import { importExtensionModule } from "./lib/bundle.mjs";
import { insertCopies, REAL_PAGES, realPagesReason, statesOf } from "./lib/real-pages.mjs";
import { startServer } from "./lib/server.mjs";
import { query } from "./lib/sqlite.mjs";
import { hostSendsVerdictUpdates } from "./lib/host-probe.mjs";
import { textImagePng } from "./lib/text-image.mjs";
import { insertTweets, stateByText, stateOf } from "./lib/x-page.mjs";

const skip = skipReason();
// verdict.update is newer than some host builds: ask the binary itself (a skip names what it did instead).
// With FEEDWARDEN_REQUIRE_MODELS=1 (CI) a host that sends no update is a failure, not a skip.
const updatesSkip =
  skip ||
  xPagesReason() ||
  (await hostSendsVerdictUpdates().then((ok) => {
    if (ok === true) return false;
    if (process.env.FEEDWARDEN_REQUIRE_MODELS === "1") throw new Error(`the host sent no verdict.update: ${ok}`);
    return `host without verdict.update: ${ok}`;
  }));
const TWEET = 'article[data-testid="tweet"]';
/** The inserted tweet with this test id (its Feedwarden UI is reached with ChromiumClosedUi: the shadow root is
 * closed, so Playwright's locators cannot see into it). */
const tweet = (testId) => `article[data-test-id="${testId}"]`;

describe("chromium: extension + native host", { skip }, () => {
  let server;
  let b;
  before(async () => {
    server = await startServer();
    // A generous pending timeout: on a busy machine a cold host can take longer than the default 1.5 s, and
    // posts shown late (then filtered) are not what these tests are about (the host-missing test sets its own).
    b = await launchChromium({ server, policy: E2E_POLICY, settings: { pendingTimeoutMs: 15000 } });
    await b.waitForHost("connected", 30000);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await b?.close();
    await server?.close();
    // Live sites are never contacted: every request the browser made came to the local server.
  });

  test("saved x.com home: every tweet judged, verdicts as the policy says", { skip: xPagesReason() }, async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    const states = await settled(page, TWEET);
    assert.equal(states.length, 20);
    assert.ok(states.every((s) => ["show", "hide", "blur", "label"].includes(s.state)), JSON.stringify(states));
    // Far from the thresholds with the real model (crypto ≈ 0.96 ≥ 0.6; clickbait ≈ 0.96–1.00 ≥ 0.85).
    assert.equal(await stateByText(page, "FIDELITY SPOT $SOL ETF"), "hide");
    assert.equal(await stateByText(page, "As long as HL pre market futures"), "hide");
    assert.equal(await stateByText(page, "Issue is you don’t know the fill size"), "hide");
    assert.equal(await stateByText(page, "Great pt."), "show");
    // The hidden tweet is a one-line stub naming its rule, with Show and Why.
    const hiddenSel = await page.evaluate(() => {
      const a = document.querySelector('article[data-testid="tweet"][data-fw-state="hide"]');
      a.setAttribute("data-test-hidden", "");
      return 'article[data-test-hidden]';
    });
    const hidden = page.locator(hiddenSel);
    const ui = await ChromiumClosedUi.attach(b.context, page);
    await assert.doesNotReject(ui.waitFor(hiddenSel, "stub"));
    assert.match(await ui.text(hiddenSel, "stub-rule"), /rule “crypto”/);
    const box = await hidden.boundingBox();
    assert.ok(box.height < 80, `a hidden tweet is collapsed to a stub (height ${box.height})`);
    await ui.click(hiddenSel, "reveal");
    assert.equal(await hidden.getAttribute("data-fw-revealed"), "");
    assert.ok((await hidden.boundingBox()).height > box.height, "Show reveals the tweet");
    await ui.click(hiddenSel, "rehide");
    assert.equal(await hidden.getAttribute("data-fw-revealed"), null);
    await page.screenshot({ path: join(ARTIFACTS, "x-home.png") });
    await page.close();
  });

  test("infinite scroll on x.com: new tweets blurred / hidden / shown, why and feedback reach SQLite", { skip: xPagesReason() }, async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    await insertTweets(page, [
      { id: "spider", text: SPIDER_TEXT, handle: "bugwatcher" },
      { id: "calm", text: CALM_TEXT, handle: "parkwalker" },
      { id: "crypto", text: CRYPTO_TEXT, handle: "coinwhale" },
      { id: "recipe", text: RECIPE_TEXT, handle: "baker" },
      { id: "spider-friend", text: FRIEND_SPIDER_TEXT, handle: "calmfriend" },
      { id: "spider-stranger", text: FRIEND_SPIDER_TEXT + ".", handle: "stranger" },
      { id: "crypto-followed", text: CRYPTO_TEXT + " today", handle: "myfriend", followed: true },
    ]);
    await settled(page, TWEET);
    const ui = await ChromiumClosedUi.attach(b.context, page);
    assert.equal(await stateOf(page, "spider"), "blur");
    assert.equal(await stateOf(page, "calm"), "show");
    assert.equal(await stateOf(page, "crypto"), "hide");
    assert.equal(await stateOf(page, "recipe"), "label");
    assert.match(await ui.text(tweet("recipe"), "badge"), /recipes/);
    assert.equal(await stateOf(page, "spider-friend"), "show", "allow-listed author (except_authors) passes");
    assert.equal(await stateOf(page, "spider-stranger"), "blur", "the same post by someone else is blurred");
    assert.equal(await stateOf(page, "crypto-followed"), "show", "followed account passes (except_followed)");
    // Blur: the overlay carries the reason; the tweet's own content is blurred.
    assert.match(await ui.text(tweet("spider"), "blur-reason"), /spiders/);
    const filter = await page.evaluate(() => getComputedStyle(document.querySelector('article[data-test-id="spider"] > div')).filter);
    assert.match(filter, /blur/);
    // Why: rule, reason, every category's score.
    await ui.click(tweet("spider"), "why");
    assert.match(await ui.text(tweet("spider"), "why-rule"), /spiders/);
    const cats = await ui.evalAll(tweet("spider"), "tr[data-category]", function () {
      return this.getAttribute("data-category");
    });
    assert.deepEqual([...cats].sort(), ["clickbait", "crypto", "engagement-bait", "manipulation", "rage-bait", "recipes", "spiders"]);
    await page.keyboard.press("Escape"); // the why panel closes (it lies over the post's buttons)
    await ui.click(tweet("spider"), "reveal");
    assert.equal(await page.getAttribute('article[data-test-id="spider"]', "data-fw-revealed"), "");
    // Feedback from the label's "why" goes to the host's SQLite, and the page judges again with it.
    await ui.click(tweet("recipe"), "why");
    await ui.click(tweet("recipe"), "feedback-fine");
    // The "Thanks" status is transient: the page judges the post again right after the host stores the
    // correction (and the post may then be shown without any UI), so wait for the row itself.
    let rows = [];
    for (let i = 0; i < 100 && !rows.length; i++) {
      rows = query(join(b.dataDir, "feedwarden.sqlite3"), "SELECT rule, kind, text FROM feedback");
      if (!rows.length) await page.waitForTimeout(100);
    }
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0][0], "recipes");
    assert.match(rows[0][1], /fine/);
    assert.match(rows[0][2], /lemon cake/);
    const pv = await b.sw.evaluate(() => new Promise((r) => chrome.storage.local.get("policyVersion", r)));
    assert.ok(pv.policyVersion >= 1, "after feedback, pages are told to judge their posts again");
    await page.close();
  });

  test("issue 13's examples, as a new reader meets them on x.com with the default categories", { skip: xPagesReason() }, async () => {
    // The issue found these shown in a real browser (clickbait 0.00, rage-bait shown); judge v3 labels or
    // blurs each (models/cards/judge.md), and an ordinary post next to them stays shown.
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    await insertTweets(page, [
      { id: "i13-believe", text: "You won't BELIEVE… Number 7 will shock you!", handle: "viralnow" },
      { id: "i13-doctors", text: "Doctors HATE him! See why 👉", handle: "healthhacks" },
      { id: "i13-parliament", text: "These idiots in parliament… Share before they delete this!!!", handle: "angrypatriot" },
      { id: "i13-comment", text: "Comment YES if you agree 👇👇", handle: "pagefarm" },
      { id: "i13-council", text: "The city council approved the new budget on Tuesday after a two-hour debate.", handle: "citydesk" },
    ]);
    await settled(page, TWEET);
    const ui = await ChromiumClosedUi.attach(b.context, page);
    for (const [id, badge] of [["i13-believe", /clickbait/i], ["i13-doctors", /clickbait/i], ["i13-comment", /engagement/i]]) {
      assert.equal(await stateOf(page, id), "label", id);
      assert.match(await ui.text(tweet(id), "badge"), badge, id);
    }
    assert.equal(await stateOf(page, "i13-parliament"), "blur");
    assert.match(await ui.text(tweet("i13-parliament"), "blur-reason"), /rage/i);
    assert.equal(await stateOf(page, "i13-council"), "show");
    await page.close();
  });

  test("hide more like this: a more_like_this row in SQLite, then similar posts are filtered by that rule", { skip: xPagesReason() }, async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    await insertTweets(page, [
      { id: "starter-recipe", text: STARTER_RECIPE_TEXT, handle: "breadbaker" },
      { id: "starter", text: STARTER_TEXT, handle: "homebaker" },
    ]);
    await settled(page, TWEET);
    assert.equal(await stateOf(page, "starter-recipe"), "label");
    assert.equal(await stateOf(page, "starter"), "show", "below the recipes threshold before any feedback");
    const ui = await ChromiumClosedUi.attach(b.context, page);
    await ui.click(tweet("starter-recipe"), "why");
    await ui.click(tweet("starter-recipe"), "feedback-more");
    let rows = [];
    for (let i = 0; i < 100 && !rows.length; i++) {
      rows = query(join(b.dataDir, "feedwarden.sqlite3"), "SELECT rule, kind, text FROM feedback WHERE kind LIKE 'more%'");
      if (!rows.length) await page.waitForTimeout(100);
    }
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.deepEqual(rows[0].slice(0, 2), ["recipes", "more_like_this"]);
    assert.match(rows[0][2], /feed my sourdough starter/);
    // The page judges its posts again: the similar post on the page is now labelled by "recipes", and so is a
    // later one, each with the host's reason saying the feedback moved its score.
    await page.waitForFunction(() => document.querySelector('article[data-test-id="starter"]')?.getAttribute("data-fw-state") === "label", null, { timeout: 30000 });
    await insertTweets(page, [{ id: "starter-later", text: STARTER_LATER_TEXT, handle: "homebaker" }]);
    await settled(page, TWEET);
    for (const id of ["starter", "starter-later"]) {
      assert.equal(await stateOf(page, id), "label", id);
      assert.match(await ui.text(tweet(id), "badge"), /recipes/, id);
      await ui.click(tweet(id), "why");
      assert.match(await ui.text(tweet(id), "why-sentence"), /^Labelled by your rule “recipes”: cooking recipes and food preparation \([01]\.\d\d\) · after your feedback$/, id);
      assert.match(await ui.text(tweet(id), "why-reason"), /your feedback moved it from 0\.[0-4]/, id);
      await page.keyboard.press("Escape");
    }
    await page.close();
  });

  test("hand-written fixture pages: Reddit (new, old), Mastodon, YouTube comments", async () => {
    const sites = [
      { url: "https://www.reddit.com/", sel: "shreddit-post, shreddit-comment" },
      { url: "https://old.reddit.com/", sel: "div.thing.link, div.thing.comment" },
      { url: "https://mastodon.social/home", sel: "div.status[data-id]" },
      { url: "https://www.youtube.com/watch?v=fixture", sel: "ytd-rich-item-renderer, ytd-comment-view-model" },
    ];
    for (const s of sites) {
      const page = await b.context.newPage();
      await page.goto(s.url);
      const states = await settled(page, s.sel);
      assertMarkerPosts(states, s.url);
      if (s.url.includes("reddit")) {
        // A nested reply is judged on its own and stays visible when its parent is not filtered.
        assert.equal(states.find((x) => x.text.startsWith("My pet tarantula"))?.state, "blur");
      }
      await page.close();
    }
  });

  // Verdicts on real posts are far from their thresholds with the real model (measured with
  // `feedwarden classify` on the posts the adapters read); copies of a real post with the marker texts check
  // hide / blur / show on each site's real markup.
  const REAL = {
    bluesky: {
      count: 51,
      states: {
        "Spoiler: It is absolutely market manipulation": "hide", // crypto 0.76 ≥ 0.60
        "boosting because good and we need more good": "hide", // crypto 0.72, from the quoted post's text only
        "Here are some nice mushrooms": "label", // clickbait 0.98 ≥ 0.80 (the model's, not ours to argue with here)
        "Maui Golden Hour": "show", // every score ≤ 0.18
      },
      source: "Elections have consequences",
    },
    youtube: {
      count: 31,
      states: {
        "Martin Shkreli Explains Business Cycles So You Stop Losing Money": "hide", // crypto 0.87
        "Porches - Shirt (Official Audio)": "show", // clickbait 0.41 < 0.80, the rest ≤ 0.15
      },
      source: "Porches - Shirt (Official Audio)",
    },
    threads: {
      count: 19,
      states: {
        "How to cook instant noodles like a pro?": "label", // recipes 0.91 ≥ 0.50
        "Trending stir-fried chicken with mushroom recipe": "label", // recipes 0.83
        "👀": "show", // every score ≤ 0.16
      },
      source: "👀",
    },
    linkedin: {
      count: 3,
      states: {
        "The WhatsApp MCP server can now send": "show", // every score ≤ 0.13
        // A sponsored product announcement at judge v2's manipulation threshold (0.78–0.81 depending on how its
        // line breaks are read and which posts share its batch): either state is the model's call, not the adapter's.
        "Announcing: Instantly.ai Catch-All Verification": ["show", "label"],
        "Excited to introduce WillBot": "show", // every score ≤ 0.22
      },
      source: "Announcing: Instantly.ai Catch-All Verification",
    },
  };

  test("real saved pages of Bluesky, YouTube, Threads, LinkedIn: every post judged; new posts filtered on the real markup", { skip: realPagesReason() }, async () => {
    const { adapterFor } = await importExtensionModule("src/adapters/index.ts");
    for (const [site, want] of Object.entries(REAL)) {
      const { url } = REAL_PAGES[site];
      const sel = adapterFor(new URL(url).hostname).post;
      const page = await b.context.newPage();
      await page.goto(url);
      // A page's first posts can outlast the pending timeout on a busy machine (shown, judged late): wait for
      // every verdict.
      const states = await settled(page, sel, 60000, { verdicts: true });
      assert.equal(states.length, want.count, `${site}: posts judged`);
      assert.ok(states.every((s) => ["show", "hide", "blur", "label"].includes(s.state)), `${site}: ${JSON.stringify(states)}`);
      const got = await statesOf(page, sel, Object.keys(want.states));
      for (const [snippet, state] of Object.entries(want.states)) {
        if (Array.isArray(state)) assert.ok(got[snippet].length === 1 && state.includes(got[snippet][0]), `${site}: "${snippet}" ${got[snippet]}`);
        else assert.deepEqual(got[snippet], [state], `${site}: "${snippet}"`);
      }
      await insertCopies(page, {
        post: sel,
        source: want.source,
        copies: [
          { id: "crypto", text: CRYPTO_TEXT },
          { id: "spider", text: SPIDER_TEXT },
          { id: "calm", text: CALM_TEXT },
        ],
      });
      const copies = await settled(page, `:is(${sel})[data-test-id]`, 60000, { verdicts: true });
      assert.equal(copies.length, 3, site);
      assertMarkerPosts(copies, site);
      await page.locator('[data-test-id="spider"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, `${site}-real.png`) }); // the saved pages' own CSS is partly missing offline
      await page.close();
    }
  });

  test("options page: a broken policy line is reported on that line; a good one is saved", async () => {
    const page = await b.context.newPage();
    await page.goto(`chrome-extension://${EXTENSION_ID}/options.html`);
    await page.waitForSelector("body[data-ready]");
    assert.match(await page.inputValue("#policy"), /name = "E2E"/);
    const broken = `[policy]\nname = "Mine"\nextends = ["feedwarden:defaults"]\n\n[[rule]]\nid = "spiders"\ndescription = "Posts about spiders"\naction = "blurr"\ntreshold = 0.5\nshould_match = ["a big spider"]\n`;
    await page.fill("#policy", broken);
    await page.waitForSelector('#gutter span.bad[data-line="8"]');
    const items = await page.locator("#diagnostics li").allTextContents();
    assert.ok(items.some((t) => /^line 8:/.test(t) && /action/.test(t)), items.join("\n"));
    assert.ok(items.some((t) => /^line 9:/.test(t) && /threshold/.test(t)), items.join("\n"));
    await page.screenshot({ path: join(ARTIFACTS, "options-diagnostics.png"), fullPage: true });
    // Switches edit the text; saving applies it in the host.
    await page.fill("#policy", E2E_POLICY);
    await page.selectOption('select[data-category="clickbait"]', "off");
    assert.match(await page.inputValue("#policy"), /rule = "clickbait"\nenabled = false/);
    await page.click("#save");
    await page.locator("#save-result.ok").waitFor();
    const pol = await b.sw.evaluate(() => new Promise((r) => chrome.storage.local.get("policyVersion", r)));
    assert.ok(pol.policyVersion >= 1, "pages are told to judge again");
    await page.close();
  });

  test("popup: host status, today's counts, pause shows every post", { skip: xPagesReason() }, async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    const popup = await b.context.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    await popup.locator('#status[data-state="connected"]').waitFor();
    assert.match(await popup.textContent('td[data-key="Models"]'), /feedwarden-judge/i);
    assert.match(await popup.textContent('td[data-key="Runs on"]'), /CPU|CUDA|GPU/);
    await popup.locator("#today-summary").waitFor();
    assert.match(await popup.textContent("#by-category"), /crypto/);
    assert.match(await popup.textContent("#by-site"), /x\.com/);
    await popup.screenshot({ path: join(ARTIFACTS, "popup.png") });
    await popup.check("#pause");
    await page.waitForFunction(() => ![...document.querySelectorAll('article[data-testid="tweet"]')].some((a) => a.hasAttribute("data-fw-state")));
    await popup.uncheck("#pause");
    await settled(page, TWEET);
    assert.equal(await stateByText(page, "FIDELITY SPOT $SOL ETF"), "hide");
    await popup.close();
    await page.close();
  });

  test("service worker stopped by the browser: it wakes up and new posts are still judged", { skip: xPagesReason() }, async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    const cdp = await b.context.newCDPSession(page);
    const stopped = new Promise((resolve) => {
      cdp.on("ServiceWorker.workerVersionUpdated", ({ versions }) => {
        if (versions.some((v) => v.scriptURL.includes(EXTENSION_ID) && v.runningStatus === "stopped")) resolve(true);
      });
    });
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
    assert.equal(await Promise.race([stopped, new Promise((r) => setTimeout(() => r(false), 10000))]), true, "the service worker stopped");
    await insertTweets(page, [{ id: "after-sw-stop", text: SPIDER_TEXT, handle: "bugwatcher" }]);
    await page.waitForFunction(() => document.querySelector('article[data-test-id="after-sw-stop"]')?.getAttribute("data-fw-state") === "blur", null, { timeout: 30000 });
    await cdp.detach();
    await page.close();
  });
});

describe("chromium: images judged after the text (verdict.update)", { skip: updatesSkip }, () => {
  // The host answers every post on its text at once (FEEDWARDEN_IMAGE_BUDGET_MS=0) and sends the verdict
  // with the image's OCR text later; the page replaces the verdict it shows.
  let server;
  let b;
  let page;
  const IMAGE = "https://pbs.twimg.com/media/fw-rage-sign.png";
  before(async () => {
    server = await startServer();
    b = await launchChromium({ server, policy: E2E_POLICY, hostEnv: { FEEDWARDEN_IMAGE_BUDGET_MS: "0" }, settings: { pendingTimeoutMs: 15000 } });
    await b.waitForHost("connected", 30000);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await b?.close();
    await server?.close();
  });

  /** Watches one post: every value its data-fw-state takes, in order, and whether it was ever marked as
   * waiting for its images (data-fw-images-pending, set by a verdict with `images_pending`). */
  async function watchPost(page, testId) {
    await page.evaluate((testId) => {
      const rec = { olds: [], pending: false };
      (window.__fwWatch = window.__fwWatch ?? {})[testId] = rec;
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.target.getAttribute("data-test-id") !== testId) continue;
          if (r.attributeName === "data-fw-state") rec.olds.push(r.oldValue);
          else if (r.target.hasAttribute("data-fw-images-pending")) rec.pending = true;
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-fw-state", "data-fw-images-pending"], attributeOldValue: true });
    }, testId);
    return () =>
      page.evaluate((testId) => {
        const rec = window.__fwWatch[testId];
        const now = document.querySelector(`article[data-test-id="${testId}"]`).getAttribute("data-fw-state");
        return { states: [...rec.olds.slice(1), now], wasPending: rec.pending }; // the first old value is "none yet"
      }, testId);
  }

  test("a harmless post whose image carries rage-bait text: shown on its text, then blurred; why quotes the image", async () => {
    page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    server.file("pbs.twimg.com", "/media/fw-rage-sign.png", await textImagePng(page, RAGE_SIGN_LINES), "image/png");
    const watched = await watchPost(page, "river");
    await insertTweets(page, [{ id: "river", text: RIVER_TEXT, handle: "riverwalker", image: IMAGE }]);
    await page.waitForFunction(() => document.querySelector('article[data-test-id="river"]')?.getAttribute("data-fw-state") === "blur", null, { timeout: 30000 });
    const { states, wasPending } = await watched();
    assert.deepEqual(states, ["pending", "show", "blur"], "first shown on its text, then blurred when the image was read");
    assert.ok(wasPending, "the first verdict said the images were pending");
    const river = 'article[data-test-id="river"]';
    const ui = await ChromiumClosedUi.attach(b.context, page);
    assert.equal(await page.getAttribute(river, "data-fw-images-pending"), null);
    await page.locator(river).screenshot({ path: join(ARTIFACTS, "x-image-update.png") });
    assert.match(await ui.text(river, "blur-reason"), /^Blurred: this looks built to make you angry \(rage-bait, [01]\.\d\d\) · text in an image$/);
    await ui.click(river, "why");
    assert.match(await ui.text(river, "why-rule"), /rage-bait/);
    assert.match(await ui.text(river, "why-reason"), /text in the image: .*ANGRY/i);
    assert.match(await ui.text(river, "why-image-text"), /THEY WANT YOU ANGRY/i);
    assert.ok(server.requests.includes("pbs.twimg.com/media/fw-rage-sign.png"), "the background fetched the image to send it");
    // The popup's counts come from the host and include the post under its final category.
    const popup = await b.context.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    await popup.locator("#today-summary").waitFor();
    // (The saved page's own tweets may count too: the real model blurs one of them as rage-bait.)
    assert.ok(Number(/rage-bait: (\d+)/.exec(await popup.textContent("#by-category"))?.[1]) >= 1);
    await popup.close();
  });

  test("an update that keeps the action: no state change, the why panel stays open and gains the image text", async () => {
    assert.ok(page, "runs after the previous test");
    const watched = await watchPost(page, "angry-river");
    // Its text alone is rage-bait (blurred); the sign (drawn wider, so the host has not seen these bytes yet)
    // adds its text, and the verdict stays "blur".
    server.file("pbs.twimg.com", "/media/fw-rage-sign-wide.png", await textImagePng(page, RAGE_SIGN_LINES, { width: 1200 }), "image/png");
    const text = `${RIVER_TEXT}. ${RAGE_SIGN_LINES.join(" ")}`;
    await insertTweets(page, [{ id: "angry-river", text, handle: "riverwalker", image: "https://pbs.twimg.com/media/fw-rage-sign-wide.png" }]);
    await page.waitForFunction(() => document.querySelector('article[data-test-id="angry-river"]')?.getAttribute("data-fw-state") === "blur", null, { timeout: 30000 });
    const ui = await ChromiumClosedUi.attach(b.context, page);
    await page.keyboard.press("Escape");
    await ui.click(tweet("angry-river"), "why");
    await ui.waitFor(tweet("angry-river"), "why-image-text");
    const { states, wasPending } = await watched();
    assert.ok(wasPending, "the first verdict said the images were pending; the image text came as an update");
    assert.deepEqual(states, ["pending", "blur"], "the update did not restyle the post");
    assert.ok(await ui.visible(tweet("angry-river"), "why-panel"), "the why panel stayed open");
  });
});

// An image rule judged by the VLM (the tiny random-weight SmolVLM: its answers are noise, but they are the
// answers of SmolVLM-256M's exact interface): no CLIP, so the VLM looks at the post's image after the text
// verdict; the post is shown on its text, then blurred, and "why" says what the VLM says the image shows.
const VLM_MODELS = join(ROOT, "models/build/smolvlm-tiny");
const vlmSkip = updatesSkip || (!existsSync(join(VLM_MODELS, "test.png")) && "the tiny SmolVLM is not built (models/scripts/setup_models.sh)");
const VLM_POLICY = `[policy]
name = "Spider pictures"

[[rule]]
id = "spider-pictures"
description = "Photos of spiders"
image_description = "a spider"
action = "blur"
threshold = 0.3
content = ["images"]
`;

describe("chromium: an image rule answered by the VLM (verdict.update)", { skip: vlmSkip }, () => {
  let server;
  let b;
  before(async () => {
    server = await startServer();
    const hostEnv = { FEEDWARDEN_VLM_MODEL: "tiny", FEEDWARDEN_CLIP_MODEL: "off" };
    b = await launchChromium({ server, policy: VLM_POLICY, hostEnv, settings: { pendingTimeoutMs: 15000 } });
    await b.waitForHost("connected", 30000);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await b?.close();
    await server?.close();
  });

  test("shown on its text, then blurred when the VLM answers; why quotes the image's description", async () => {
    const page = await b.context.newPage();
    await page.goto("https://x.com/home");
    await settled(page, TWEET);
    server.file("pbs.twimg.com", "/media/fw-vlm-test.png", readFileSync(join(VLM_MODELS, "test.png")), "image/png");
    await insertTweets(page, [{ id: "webs", text: "Morning walk by the river, light rain.", handle: "walker", image: "https://pbs.twimg.com/media/fw-vlm-test.png" }]);
    await page.waitForFunction(() => document.querySelector('article[data-test-id="webs"]')?.getAttribute("data-fw-state") === "blur", null, { timeout: 60000 });
    const ui = await ChromiumClosedUi.attach(b.context, page);
    await ui.click(tweet("webs"), "why");
    assert.match(await ui.text(tweet("webs"), "why-rule"), /spider-pictures/);
    assert.match(await ui.text(tweet("webs"), "why-reason"), /an image looks like "a spider" .*; the image shows: "[^"]+"/);
    assert.equal(await page.getAttribute(tweet("webs"), "data-fw-images-pending"), null, "the VLM's verdict is final");
    await page.locator(tweet("webs")).screenshot({ path: join(ARTIFACTS, "x-vlm-update.png") });
  });
});

describe("chromium: host missing, installed later, crashing", { skip }, () => {
  test("no host: the popup says how to install it, pages show posts; after install + retry, pending posts are judged", { skip: xPagesReason() }, async () => {
    const server = await startServer();
    const b = await launchChromium({ server, policy: E2E_POLICY, registerHost: false, settings: { pendingTimeoutMs: 800, fallback: false } }); // without the in-browser fallback (tested in tests/wasm/)
    try {
      await b.waitForHost("not-installed", 15000);
      const page = await b.context.newPage();
      await page.goto("https://x.com/home");
      const states = await settled(page, TWEET);
      assert.ok(states.every((s) => s.state === "late"), "without a host every post is shown (judged late)");
      const popup = await b.context.newPage();
      await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
      assert.match(await popup.textContent("#install-command"), /feedwarden install/);
      await popup.screenshot({ path: join(ARTIFACTS, "popup-no-host.png") });
      installHost(b.userDataDir);
      await popup.click("#retry");
      await b.waitForHost("connected", 30000);
      // The content script re-sends the posts it has no verdict for.
      await page.waitForFunction(() => document.querySelector('article[data-testid="tweet"]')?.closest("body").querySelectorAll('article[data-fw-state="hide"]').length >= 3, null, { timeout: 45000 });
      // The host crashes: the next posts still get verdicts after the reconnect.
      const pid = hostPid(b.dataDir);
      assert.ok(pid, "found our host process");
      process.kill(pid, "SIGKILL");
      await insertTweets(page, [{ id: "after-crash", text: SPIDER_TEXT, handle: "bugwatcher" }]);
      await page.waitForFunction(() => document.querySelector('article[data-test-id="after-crash"]')?.getAttribute("data-fw-state") === "blur", null, { timeout: 30000 });
    } finally {
      await b.close();
      await server.close();
    }
  });
});

/** The host process started for this test's data folder (found by its FEEDWARDEN_HOME). */
function hostPid(dataDir) {
  const fs = require_fs();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (!cmd.includes("feedwarden-host")) continue;
      const env = fs.readFileSync(`/proc/${d}/environ`, "utf8");
      if (env.split("\0").includes(`FEEDWARDEN_HOME=${dataDir}`)) return Number(d);
    } catch {
      /* gone or not ours */
    }
  }
  return null;
}
import * as fsMod from "node:fs";
function require_fs() {
  return fsMod;
}
void ROOT;
