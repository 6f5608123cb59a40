// Extension speed on the saved x.com page in headless Chromium with the real host (warm):
//   node bench.mjs [posts=1000] [posts per step=10] [ms between steps=50] [--light] [--cells=N]
// Inserts tweets the way infinite scroll does (10 per step, one step per 50 ms), drops old cells the way
// X's virtualised list does (at most N in the page, 100 by default; the saved x.com page has 21), and
// reports: insert → verdict applied (p50/p95) with the time of each stage, the content script's
// main-thread time per post, and the JS heap before/after (after a forced GC).
import { EXTENSION_ID, launchChromium, settled } from "./lib/chromium.mjs";
import { missing, xPagesReason } from "./lib/env.mjs";
import { E2E_POLICY } from "./lib/policy.mjs";
import { startServer } from "./lib/server.mjs";
import { insertTweets } from "./lib/x-page.mjs";
import { loadavg } from "node:os";

const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const N = Number(positional[0] ?? 1000);
const STEP = Number(positional[1] ?? 10); // posts per scroll step
const PAUSE = Number(positional[2] ?? 50); // ms between steps
const LIGHT = process.argv.includes("--light"); // strip the saved page down to one template tweet
// Cells kept in the page (older ones removed, as a virtualised list does).
const CELLS = Number(process.argv.find((a) => a.startsWith("--cells="))?.slice(8) ?? 100);
const why = missing().concat(xPagesReason() || []);
if (why.length) {
  console.error(`cannot run: ${why.join("; ")}`);
  process.exit(2);
}
const TOPICS = ["the new bike lane", "my sourdough starter", "a rainy Monday", "the football match", "a concert last night", "our garden tomatoes", "the train delay", "a new phone", "a chess opening", "the library book sale"];
const server = await startServer();
const b = await launchChromium({ server, policy: E2E_POLICY });
try {
  await b.waitForHost("connected", 30000);
  const page = await b.context.newPage();
  const cdp = await b.context.newCDPSession(page);
  await page.goto("https://x.com/home");
  await settled(page, 'article[data-testid="tweet"]');
  if (LIGHT) {
    // A light page: keep the timeline's first text-only tweet (the template new posts are cloned from) and
    // drop the rest of the saved page, so layout and paint of the page stop dominating the measurement.
    await page.evaluate(() => {
      const keep = [...document.querySelectorAll('article[data-testid="tweet"]')].find((a) => a.querySelector('[data-testid="tweetText"]') && !a.querySelector('[data-testid="tweetPhoto"]') && a.getBoundingClientRect().height > 0);
      const cell = keep.closest('[data-testid="cellInnerDiv"]') ?? keep.parentElement;
      const column = document.querySelector('[data-testid="primaryColumn"]') ?? document.body;
      cell.removeAttribute("style");
      document.body.replaceChildren(column);
      column.replaceChildren(cell);
      for (const img of document.querySelectorAll("img, video, svg")) img.remove();
    });
  }
  // Warm-up (host model, caches, JIT); the warm-up posts are not measured.
  await insertTweets(page, Array.from({ length: 20 }, (_, i) => ({ id: `w${i}`, text: `Warm-up post ${i} about ${TOPICS[i % 10]}` })));
  await page.waitForTimeout(1000);
  await page.evaluate(() => document.querySelectorAll("article[data-test-inserted]").forEach((a) => a.removeAttribute("data-test-inserted")));
  await cdp.send("HeapProfiler.collectGarbage");
  const heap0 = await page.evaluate(() => performance.memory.usedJSHeapSize);
  const m0 = JSON.parse((await page.getAttribute("html", "data-fw-metrics")) ?? "{}");
  const load0 = loadavg()[0];
  // One row per judged post, every time in the page's clock: inserted, batch sent to the service worker,
  // reply received by the content script, verdict applied; plus the time inside the service worker and the
  // host's own judging time as they reported them.
  const collect = () =>
    page.evaluate(() => {
      const out = [];
      const num = (a, k) => (a.hasAttribute(k) ? Number(a.getAttribute(k)) : NaN);
      for (const a of document.querySelectorAll("article[data-fw-t][data-test-inserted]")) {
        const [bgIn, bgOut] = (a.getAttribute("data-fw-bg-span") ?? "NaN NaN").split(" ").map(Number);
        out.push({
          inserted: num(a, "data-test-inserted"),
          sent: num(a, "data-fw-sent"),
          received: num(a, "data-fw-received"),
          applied: num(a, "data-fw-t"),
          bg: num(a, "data-fw-bg-ms"),
          host: num(a, "data-fw-host-ms"),
          // Wall clock (timeOrigin + now) in the page and in the service worker, for the two directions.
          sentWall: num(a, "data-fw-sent-wall"),
          receivedWall: num(a, "data-fw-received-wall"),
          bgIn,
          bgOut,
        });
        a.removeAttribute("data-test-inserted");
      }
      return out;
    });
  const rows = [];
  const t0 = Date.now();
  for (let i = 0; i < N; i += STEP) {
    const batch = Array.from({ length: Math.min(STEP, N - i) }, (_, k) => ({ id: `p${i + k}`, text: `Post ${i + k}: some thoughts on ${TOPICS[(i + k) % 10]}, number ${i + k}` }));
    await insertTweets(page, batch);
    await page.waitForTimeout(PAUSE);
    rows.push(...(await collect()));
    // Drop old cells (virtualisation).
    await page.evaluate((cells) => {
      const feed = document.getElementById("fw-test-feed");
      while (feed.children.length > cells) feed.firstElementChild.remove();
    }, CELLS);
  }
  await page.waitForTimeout(1000);
  rows.push(...(await collect()));
  const elapsed = Date.now() - t0;
  const load1 = loadavg()[0];
  await cdp.send("HeapProfiler.collectGarbage");
  const heap1 = await page.evaluate(() => performance.memory.usedJSHeapSize);
  const m1 = JSON.parse(await page.getAttribute("html", "data-fw-metrics"));
  const pct = (xs) => {
    const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
    return v.length ? { p50: +q(0.5).toFixed(1), p95: +q(0.95).toFixed(1), max: +v.at(-1).toFixed(1) } : null;
  };
  const popup = await b.context.newPage();
  await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
  const swLatency = await popup
    .locator('td[data-key="Latency"]')
    .textContent({ timeout: 5000 })
    .catch(() => "n/a");
  await popup.close();
  const posts = m1.posts - m0.posts;
  const result = {
    posts: N,
    step: `${STEP} posts every ${PAUSE} ms`,
    cells_kept: CELLS,
    page: LIGHT ? "saved x.com page stripped to one template tweet (--light)" : "saved x.com home page",
    judged: rows.length,
    load_average_1min: { start: +load0.toFixed(2), end: +load1.toFixed(2) },
    insert_to_verdict_ms: pct(rows.map((r) => r.applied - r.inserted)),
    stages_ms: {
      insert_to_sent: pct(rows.map((r) => r.sent - r.inserted)),
      page_to_service_worker_and_back: pct(rows.map((r) => r.received - r.sent - r.bg)),
      page_to_service_worker: pct(rows.map((r) => r.bgIn - r.sentWall)),
      service_worker_to_page: pct(rows.map((r) => r.receivedWall - r.bgOut)),
      in_service_worker: pct(rows.map((r) => r.bg)),
      host_judging: pct(rows.map((r) => r.host)),
      received_to_applied: pct(rows.map((r) => r.applied - r.received)),
    },
    service_worker_to_host_round_trip: swLatency,
    content_script_ms_per_post: +((m1.costMs - m0.costMs) / posts).toFixed(3),
    heap_mb: { before: +(heap0 / 1e6).toFixed(1), after: +(heap1 / 1e6).toFixed(1) },
    tracked_posts_after: m1.tracked,
    verdict_cache_after: m1.cache,
    late: m1.late - (m0.late ?? 0),
    wall_s: +(elapsed / 1000).toFixed(1),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await b.close();
  await server.close();
}
