// The site adapters (extension/src/adapters) on the real saved pages of Bluesky, YouTube, Threads and
// LinkedIn (../shared/data/feeds, served from 127.0.0.1 by lib/server.mjs), in a real headless Chromium:
// the adapters are bundled into the page and every post container they match is read with their own
// extract(). Needs Chromium and the shared data (skips without either); no extension build, host or model.
// What the extension then does with these posts (judged, verdicts shown) is in chromium.test.mjs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { extensionModuleForPage, importExtensionModule } from "./lib/bundle.mjs";
import { CHROMIUM, REQUIRE } from "./lib/env.mjs";
import { REAL_PAGES, realPagesReason } from "./lib/real-pages.mjs";
import { startServer } from "./lib/server.mjs";

function browserReason() {
  if (CHROMIUM) return false;
  if (REQUIRE) throw new Error("Chromium is not installed; run: apt-get install chromium (or set CHROMIUM_BIN)");
  return "Chromium is not installed; run: apt-get install chromium (or set CHROMIUM_BIN)";
}

test("adapters: every new site's hosts map to its adapter and into the manifest's match patterns", async () => {
  const { adapterFor, matchPatterns } = await importExtensionModule("src/adapters/index.ts");
  const cases = {
    "bsky.app": "bluesky",
    "www.youtube.com": "youtube",
    "www.threads.net": "threads",
    "threads.net": "threads",
    "www.threads.com": "threads",
    "www.linkedin.com": "linkedin",
  };
  for (const [host, id] of Object.entries(cases)) assert.equal(adapterFor(host)?.id, id, host);
  assert.equal(adapterFor("evil-threads.net"), null);
  const patterns = matchPatterns();
  for (const p of ["*://www.threads.net/*", "*://www.threads.com/*", "*://www.linkedin.com/*"]) assert.ok(patterns.includes(p), p);
  // Every adapter's site has a switch in the settings (and so in the options page's site list).
  globalThis.chrome ??= { runtime: { id: "test" } }; // settings.ts reads the extension API when it loads
  const { SITE_IDS, DEFAULT_SETTINGS } = await importExtensionModule("src/shared/settings.ts");
  const { ADAPTERS } = await importExtensionModule("src/adapters/index.ts");
  for (const a of ADAPTERS) {
    assert.ok(SITE_IDS.includes(a.id), `settings know ${a.id}`);
    assert.equal(DEFAULT_SETTINGS.sites[a.id], true, `${a.id} is on by default`);
  }
});

const skip = browserReason() || realPagesReason();

describe("adapters on the real saved pages (headless Chromium)", { skip }, () => {
  let server;
  let browser;
  let context;
  let code;
  /** site → [{ text, quoted_text, author, images, url, created_at } | null] for every element the adapter's
   * post selector matches, in page order. */
  const found = {};

  before(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless=new", "--no-sandbox", "--disable-gpu"], proxy: { server: server.proxy, bypass: "<-loopback>" } });
    // bypassCSP: the saved pages keep their sites' script policies, which would refuse the test's script.
    context = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, viewport: { width: 1100, height: 1400 } });
    code = await extensionModuleForPage("src/adapters/index.ts", "__fwAdapters");
    for (const [site, { url }] of Object.entries(REAL_PAGES)) {
      const page = await context.newPage();
      page.on("pageerror", () => {}); // the saved pages' own scripts fail offline; that is expected
      await page.goto(url, { waitUntil: "load" });
      await page.addScriptTag({ content: code });
      const r = await page.evaluate(() => {
        const a = window.__fwAdapters.adapterFor(location.hostname);
        const els = [...document.querySelectorAll(a.post)];
        const t0 = performance.now();
        const posts = els.map((el) => a.extract(el));
        return { id: a.id, ms: performance.now() - t0, posts };
      });
      assert.equal(r.id, site);
      found[site] = r.posts;
      // Measured, not asserted (no timed assertions): what reading every post of the page costs.
      console.log(`# ${site}: ${r.posts.length} posts read in ${r.ms.toFixed(1)} ms (${(r.ms / Math.max(1, r.posts.length)).toFixed(2)} ms per post)`);
      await page.close();
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const by = (site, needle) => {
    const p = found[site].find((x) => x && (x.text.includes(needle) || x.quoted_text?.includes(needle)));
    assert.ok(p, `${site}: a post with "${needle}"`);
    return p;
  };

  test("every matched element is read as a post (none would stay in the pending look for ever)", () => {
    for (const [site, posts] of Object.entries(found)) {
      assert.ok(posts.length > 0, site);
      const unread = posts.map((p, i) => (p ? null : i)).filter((i) => i !== null);
      assert.deepEqual(unread, [], `${site}: matched but not read`);
      for (const p of posts) {
        assert.ok(p.url && new URL(p.url).protocol === "https:", `${site}: a permalink for ${JSON.stringify(p)}`);
        assert.ok(p.text || p.quoted_text || p.images.length, `${site}: something to judge`);
        for (const src of p.images) assert.match(src, /^https:\/\//, site);
      }
      assert.equal(new Set(posts.map((p) => p.url)).size, posts.length, `${site}: one post per permalink`);
    }
  });

  test("Bluesky: 51 feed items; quoted posts' text apart from the post's own; image-only posts", () => {
    const posts = found.bluesky;
    assert.equal(posts.length, 51);
    for (const p of posts) {
      const handle = p.author.slice(1);
      assert.ok(p.url.startsWith(`https://bsky.app/profile/${handle}/post/`), `${p.author} ${p.url}`);
    }
    const scalzi = by("bluesky", "Spoiler: It is absolutely market manipulation");
    assert.equal(scalzi.text, "Spoiler: It is absolutely market manipulation");
    assert.match(scalzi.quoted_text, /^Rep\. Steven Horsford to Greer: "So the trade representative/);
    assert.equal(scalzi.author, "@scalzi.com");
    assert.equal(scalzi.url, "https://bsky.app/profile/scalzi.com/post/3lmfnxiid222r", "the post's own permalink, not the quoted post's");
    assert.equal(posts.filter((p) => p.quoted_text).length, 5);
    assert.match(by("bluesky", "This is the \"stock prices can be manipulated\" part.").quoted_text, /^I think it's a mistake to focus on stock prices/);
    // Posts with a picture and no words are judged on the picture.
    const imageOnly = posts.filter((p) => !p.text && !p.quoted_text);
    assert.deepEqual(imageOnly.map((p) => p.author).sort(), ["@bodegacats.bsky.social", "@dailybunnies.bsky.social", "@pattonoswalt.bsky.social"]);
    for (const p of imageOnly) assert.match(p.images[0], /^https:\/\/cdn\.bsky\.app\/img\/feed_thumbnail\//);
    assert.equal(by("bluesky", "Blue is the warmest colour").images.length, 4);
    assert.ok(!posts.some((p) => p.images.some((i) => i.includes("/avatar"))), "avatars are not the post's images");
    assert.equal(by("bluesky", "Maui Golden Hour").text, "Maui Golden Hour\n#photography");
  });

  test("YouTube: 31 tiles, 22 videos with their channel and 9 Shorts; thumbnails from the video id", () => {
    const posts = found.youtube;
    assert.equal(posts.length, 31);
    const shorts = posts.filter((p) => p.url.includes("/shorts/"));
    assert.equal(shorts.length, 9);
    const videos = posts.filter((p) => p.url.includes("/watch?v="));
    assert.equal(videos.length, 22);
    for (const p of videos) assert.match(p.author, /^(@[\w.-]+|channel\/UC[\w-]+)$/, p.text);
    assert.equal(videos.filter((p) => p.author.startsWith("@")).length, 21);
    assert.equal(by("youtube", "Porches - Shirt").author, "channel/UC8HhwKph-xwlWd4hY1GzuGw", "a channel without a handle");
    const riot = by("youtube", "How the Second January 6 Riot Almost Happened");
    assert.equal(riot.text, "How the Second January 6 Riot Almost Happened");
    assert.equal(riot.author, "@Channel5Clips");
    assert.deepEqual(riot.images, ["https://i.ytimg.com/vi/1QW99SdjSxM/hqdefault.jpg"]);
    const short = by("youtube", "3 Reasons why AI benchmarks often don't work");
    assert.equal(short.url, "https://www.youtube.com/shorts/ozEfX6iEX38");
    assert.deepEqual(short.images, ["https://i.ytimg.com/vi/ozEfX6iEX38/hqdefault.jpg"]);
    assert.equal(by("youtube", "Tracing the thoughts of a large language model").author, "@anthropic-ai");
  });

  test("Threads: 19 posts (a quoted post is part of its quoting post); text without names, counts or captions", () => {
    const posts = found.threads;
    assert.equal(posts.length, 19);
    for (const p of posts) {
      assert.match(p.url, /^https:\/\/www\.threads\.net\/@[\w.]+\/post\/[\w-]+$/);
      assert.ok(p.url.includes(`/${p.author}/post/`), `${p.author} ${p.url}`);
      assert.match(p.created_at, /^2025-04-0[789]T\d\d:\d\d:\d\d\.000Z$/);
      assert.ok(!p.images.some((i) => i.includes("/t51.2885-19/")), `profile pictures are not post images: ${p.url}`);
      assert.ok(!/Show \d+ more|\bVerified\b/.test(p.text), p.text);
    }
    const quoting = by("threads", "So medicine is about to get even more expensive");
    assert.equal(quoting.text, "So medicine is about to get even more expensive");
    assert.equal(quoting.author, "@trumpflationtracker");
    assert.match(quoting.quoted_text, /^Trump: "We're gonna tariff our pharmaceuticals/);
    assert.ok(!posts.some((p) => p.author === "@aaron.rupar"), "the quoted post is not a post of its own");
    const weather = by("threads", "Wednesday's Weather Rating: 4/10");
    assert.match(weather.text, /^Wednesday's Weather Rating: 4\/10\nWAY too cold this morning\./, "paragraphs on their own lines");
    assert.equal(by("threads", "The next level media solution").text, "The next level media solution to store fronts. retail", "not the name shown over the video");
    assert.equal(by("threads", "digital postcard sent from san francisco").images.length, 4);
    const videoOnly = posts.find((p) => p.author === "@akamztweenty");
    assert.equal(videoOnly.text, "");
    assert.equal(videoOnly.images.length, 1, "a video's poster is judged");
    assert.equal(by("threads", "Vinod Khosla").text, "Vinod Khosla explains why you don’t want “founder friendly” VCs\nVideo source: @southparkcommons (2025)");
  });

  test("LinkedIn: the 3 rendered updates (not the placeholders, not the comment, not the reposter)", () => {
    const posts = found.linkedin;
    assert.equal(posts.length, 3);
    assert.deepEqual(
      posts.map((p) => p.author),
      ["in/luke-harries", "in/nils-schneider", "in/hamza-alsamraee"],
      "the author, not who reposted it (in/thorwebdev) or commented on it",
    );
    assert.match(posts[0].text, /^The WhatsApp MCP server can now send and receive images, videos, and voice notes\n\nCombine it with the new ElevenLabs MCP server/);
    assert.equal(posts[0].url, "https://www.linkedin.com/feed/update/urn:li:activity:7315070569723375617/");
    assert.equal(posts[0].created_at, "2025-04-07T17:58:51.261Z", "from the activity id");
    assert.match(posts[1].text, /^Announcing: Instantly\.ai Catch-All Verification/, "promoted posts are judged too");
    assert.match(posts[2].text, /^Excited to introduce WillBot/);
    assert.ok(!posts[2].text.includes("leggo"), "a comment shown under the post is not its text");
    for (const p of posts) assert.ok(p.images.every((i) => i.includes("/videocover-")), `only post media, no avatars: ${p.images}`);
    assert.equal(posts[0].images.length, 1);
    assert.equal(posts[1].images.length, 0);
  });
});
