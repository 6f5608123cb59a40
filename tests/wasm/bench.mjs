// Benchmark of the in-browser engine: per-post time in Node and in headless Chromium (same .wasm as shipped),
// shipped size raw and gzipped, beside the native host's CLI on the same posts. Prints a markdown table for
// docs/benchmarks.md and writes target/wasm-bench.json.
//   node tests/wasm/bench.mjs        (after wasm-classifier/build.sh and ./setup.sh; posts: ../shared/data/feeds)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const feeds = path.join(process.env.FEEDWARDEN_SHARED_DATA || path.join(ROOT, "..", "shared", "data"), "feeds");
const posts = execFileSync("python3", [path.join(ROOT, "tests/wasm/feed_posts.py"), feeds], { encoding: "utf8" })
  .split("\n").filter(Boolean).map((l) => JSON.parse(l));
const N = posts.length;
const ROUNDS = 5;

function stats(msPerPost) {
  const s = [...msPerPost].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0] };
}

// --- Node -------------------------------------------------------------------------------------------------
const wasm = require(path.join(ROOT, "target/wasm/node/feedwarden_wasm.js"));
const engine = new wasm.TinyEngine("");
const batchJson = JSON.stringify(posts);
engine.judge(batchJson); // warm-up
const nodeBatch = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = process.hrtime.bigint();
  engine.judge(batchJson);
  nodeBatch.push(Number(process.hrtime.bigint() - t0) / 1e6 / N);
}
const singles = posts.map((p) => JSON.stringify([p]));
const nodeSingle = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = process.hrtime.bigint();
  for (const s of singles) engine.judge(s);
  nodeSingle.push(Number(process.hrtime.bigint() - t0) / 1e6 / N);
}
const t0 = process.hrtime.bigint();
const cold = new wasm.TinyEngine(fs.readFileSync(path.join(ROOT, "policies/examples/spiders.toml"), "utf8"));
const policyMs = Number(process.hrtime.bigint() - t0) / 1e6;
cold.free();

// --- headless Chromium (the web build, as the extension loads it) ---------------------------------------
const webDir = path.join(ROOT, "target/wasm/web");
const page = `<!doctype html><script type="module">
import init, { TinyEngine } from "./feedwarden_wasm.js";
const t0 = performance.now();
await init({ module_or_path: "./feedwarden_wasm_bg.wasm" });
const initMs = performance.now() - t0;
const posts = await (await fetch("./posts.json")).json();
const e = new TinyEngine("");
const batch = JSON.stringify(posts);
e.judge(batch);
const res = { initMs, batch: [], single: [] };
for (let r = 0; r < ${ROUNDS}; r++) { const t = performance.now(); e.judge(batch); res.batch.push((performance.now() - t) / posts.length); }
const singles = posts.map((p) => JSON.stringify([p]));
for (let r = 0; r < ${ROUNDS}; r++) { const t = performance.now(); for (const s of singles) e.judge(s); res.single.push((performance.now() - t) / posts.length); }
window.__bench = res;
</script>`;
const server = http.createServer((req, res) => {
  const name = req.url.split("?")[0].slice(1) || "index.html";
  if (name === "index.html") return res.writeHead(200, { "content-type": "text/html" }).end(page);
  if (name === "posts.json") return res.writeHead(200, { "content-type": "application/json" }).end(batchJson);
  const f = path.join(webDir, path.basename(name));
  if (!fs.existsSync(f)) return res.writeHead(404).end();
  const type = f.endsWith(".wasm") ? "application/wasm" : "text/javascript";
  res.writeHead(200, { "content-type": type }).end(fs.readFileSync(f));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
let chromium = null;
try {
  const { chromium: pw } = require(path.join(ROOT, "tests/e2e/node_modules/playwright-core"));
  const browser = await pw.launch({ executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium", args: ["--headless=new", "--no-sandbox", "--disable-gpu"] });
  const p = await browser.newPage();
  await p.goto(`http://127.0.0.1:${server.address().port}/`);
  await p.waitForFunction(() => window.__bench, null, { timeout: 60000 });
  chromium = await p.evaluate(() => window.__bench);
  await browser.close();
} catch (e) {
  console.error(`[bench] headless Chromium skipped: ${e.message}`);
}
server.close();

// --- native host CLI on the same posts ---------------------------------------------------------------------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fw-bench-"));
const cliPosts = path.join(tmp, "posts.jsonl");
fs.writeFileSync(cliPosts, posts.map((p) => JSON.stringify(p)).join("\n") + "\n");
const onePost = path.join(tmp, "one.jsonl");
fs.writeFileSync(onePost, JSON.stringify(posts[0]) + "\n");
const cli = path.join(ROOT, "target/release/feedwarden");
let native = null;
if (fs.existsSync(cli)) {
  const time = (f) => {
    const t = process.hrtime.bigint();
    execFileSync(cli, ["classify", f, "-o", path.join(tmp, "out.jsonl")], { stdio: ["ignore", "ignore", "ignore"] });
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  time(onePost); // warm the page cache
  const startup = Math.min(time(onePost), time(onePost));
  const all = Math.min(time(cliPosts), time(cliPosts));
  native = { startupMs: startup, totalMs: all, msPerPost: (all - startup) / (N - 1) };
}
fs.rmSync(tmp, { recursive: true, force: true });

// --- sizes ---------------------------------------------------------------------------------------------------
const size = (f) => {
  const b = fs.readFileSync(path.join(webDir, f));
  return { raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
};
const sizes = { wasm: size("feedwarden_wasm_bg.wasm"), glue: size("feedwarden_wasm.js"), model: fs.statSync(path.join(ROOT, "models/tiny/feedwarden-tiny.bin")).size };

const report = {
  posts: N, rounds: ROUNDS, cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version,
  node_ms_per_post: { batch: stats(nodeBatch), single: stats(nodeSingle) }, node_policy_prepare_ms: policyMs,
  chromium: chromium && { init_ms: chromium.initMs, batch: stats(chromium.batch), single: stats(chromium.single) },
  native_cli: native, sizes,
};
fs.mkdirSync(path.join(ROOT, "target"), { recursive: true });
fs.writeFileSync(path.join(ROOT, "target/wasm-bench.json"), JSON.stringify(report, null, 1));
const f = (x) => (x == null ? "–" : x.toFixed(3));
console.log(`| engine | where | ms/post (batch of ${N}) | ms/post (one post per call) | notes |`);
console.log("|---|---|---|---|---|");
console.log(`| tiny (WASM) | Node ${process.version} | ${f(report.node_ms_per_post.batch.median)} | ${f(report.node_ms_per_post.single.median)} | preparing a policy with a user-defined rule: ${policyMs.toFixed(1)} ms |`);
if (chromium) console.log(`| tiny (WASM) | headless Chromium | ${f(chromium && stats(chromium.batch).median)} | ${f(chromium && stats(chromium.single).median)} | module load + instantiate: ${chromium.initMs.toFixed(0)} ms |`);
if (native) console.log(`| native host (MiniLM int8, ONNX Runtime) | \`feedwarden classify\` | ${f(native.msPerPost)} | – | process start + model load ${native.startupMs.toFixed(0)} ms (not in ms/post) |`);
console.log(`\nShipped: feedwarden_wasm_bg.wasm ${sizes.wasm.raw} bytes raw, ${sizes.wasm.gzip} gzipped (model file alone ${sizes.model}); JS glue ${sizes.glue.raw} raw, ${sizes.glue.gzip} gzipped.`);
