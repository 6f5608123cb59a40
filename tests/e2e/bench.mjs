// Extension speed on the saved x.com page in headless Chromium with the real host (warm):
//   node bench.mjs [posts=1000] [posts per step=10] [ms between steps=50]
// Inserts tweets the way infinite scroll does (10 per step, one step per 50 ms), drops old cells the way
// X's virtualised list does (at most 100 in the page), and reports: insert → verdict applied (p50/p95),
// the content script's main-thread time per post, and the JS heap before/after (after a forced GC).
import { EXTENSION_ID, launchChromium, settled } from "./lib/chromium.mjs";
import { missing, xPagesReason } from "./lib/env.mjs";
import { E2E_POLICY } from "./lib/policy.mjs";
import { startServer } from "./lib/server.mjs";
import { insertTweets } from "./lib/x-page.mjs";

const N = Number(process.argv[2] ?? 1000);
const STEP = Number(process.argv[3] ?? 10); // posts per scroll step
const PAUSE = Number(process.argv[4] ?? 50); // ms between steps
const LIGHT = process.argv.includes("--light"); // strip the saved page down to one template tweet
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
  // Warm-up (host model, caches, JIT).
  await insertTweets(page, Array.from({ length: 20 }, (_, i) => ({ id: `w${i}`, text: `Warm-up post ${i} about ${TOPICS[i % 10]}` })));
  await page.waitForTimeout(1000);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap0 = await page.evaluate(() => performance.memory.usedJSHeapSize);
  const m0 = JSON.parse((await page.getAttribute("html", "data-fw-metrics")) ?? "{}");
  const latencies = [];
  const t0 = Date.now();
  for (let i = 0; i < N; i += STEP) {
    const batch = Array.from({ length: Math.min(STEP, N - i) }, (_, k) => ({ id: `p${i + k}`, text: `Post ${i + k}: some thoughts on ${TOPICS[(i + k) % 10]}, number ${i + k}` }));
    await insertTweets(page, batch);
    await page.waitForTimeout(PAUSE);
    // Collect finished ones and drop old cells (virtualisation).
    latencies.push(
      ...(await page.evaluate(() => {
        const out = [];
        const feed = document.getElementById("fw-test-feed");
        for (const a of feed.querySelectorAll("article[data-fw-t][data-test-inserted]")) {
          const inserted = Number(a.getAttribute("data-test-inserted"));
          out.push(Number(a.getAttribute("data-fw-t")) - inserted);
          if (a.hasAttribute("data-fw-sent")) window.__fwQueued = [...(window.__fwQueued ?? []), Number(a.getAttribute("data-fw-sent")) - inserted];
          if (a.hasAttribute("data-fw-host-ms")) window.__fwHost = [...(window.__fwHost ?? []), Number(a.getAttribute("data-fw-host-ms"))];
          if (a.hasAttribute("data-fw-bg-ms")) window.__fwBg = [...(window.__fwBg ?? []), Number(a.getAttribute("data-fw-bg-ms"))];
          if (a.hasAttribute("data-fw-bg-ms") && a.hasAttribute("data-fw-received") && a.hasAttribute("data-fw-sent"))
            window.__fwHop = [...(window.__fwHop ?? []), Number(a.getAttribute("data-fw-received")) - Number(a.getAttribute("data-fw-sent")) - Number(a.getAttribute("data-fw-bg-ms"))];
          a.removeAttribute("data-test-inserted");
        }
        while (feed.children.length > 100) feed.firstElementChild.remove();
        return out;
      })),
    );
  }
  await page.waitForTimeout(1000);
  latencies.push(...(await page.evaluate(() => [...document.querySelectorAll("article[data-fw-t][data-test-inserted]")].map((a) => Number(a.getAttribute("data-fw-t")) - Number(a.getAttribute("data-test-inserted"))))));
  const elapsed = Date.now() - t0;
  await cdp.send("HeapProfiler.collectGarbage");
  const heap1 = await page.evaluate(() => performance.memory.usedJSHeapSize);
  const m1 = JSON.parse(await page.getAttribute("html", "data-fw-metrics"));
  // Where the time goes: insert → batch sent to the service worker (the content script's own queueing).
  const queued = (await page.evaluate(() => window.__fwQueued ?? [])).sort((a, b) => a - b);
  const qq = (p) => queued[Math.min(queued.length - 1, Math.floor(p * queued.length))] ?? NaN;
  const hostMs = (await page.evaluate(() => window.__fwHost ?? [])).sort((a, b) => a - b);
  const hop = (await page.evaluate(() => window.__fwHop ?? [])).sort((a, b) => a - b);
  const bg = (await page.evaluate(() => window.__fwBg ?? [])).sort((a, b) => a - b);
  const qb = (p) => bg[Math.min(bg.length - 1, Math.floor(p * bg.length))] ?? NaN;
  const qp = (p) => hop[Math.min(hop.length - 1, Math.floor(p * hop.length))] ?? NaN;
  const qh = (p) => hostMs[Math.min(hostMs.length - 1, Math.floor(p * hostMs.length))] ?? NaN;
  // The service worker's own view: time from posting to the native port to the host's reply.
  const popup = await b.context.newPage();
  await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
  const swLatency = await popup
    .locator('td[data-key="Latency"]')
    .textContent({ timeout: 5000 })
    .catch(() => "n/a");
  await popup.close();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const posts = m1.posts - m0.posts;
  const result = {
    posts: N,
    step: `${STEP} posts every ${PAUSE} ms`,
    page: LIGHT ? "saved x.com page stripped to one template tweet (--light)" : "saved x.com home page",
    judged: latencies.length,
    insert_to_verdict_ms: { p50: +q(0.5).toFixed(1), p95: +q(0.95).toFixed(1), max: +latencies.at(-1).toFixed(1) },
    insert_to_sent_ms: { p50: +qq(0.5).toFixed(1), p95: +qq(0.95).toFixed(1) },
    page_to_service_worker_and_back_ms: { p50: +qp(0.5).toFixed(1), p95: +qp(0.95).toFixed(1) },
    in_service_worker_ms: { p50: +qb(0.5).toFixed(1), p95: +qb(0.95).toFixed(1) },
    host_elapsed_ms: { p50: +qh(0.5).toFixed(1), p95: +qh(0.95).toFixed(1) },
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
