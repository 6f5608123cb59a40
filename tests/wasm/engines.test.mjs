// The WASM build of wasm-classifier under Node, against the native build and the native judge.
//   node --test tests/wasm/        (after wasm-classifier/build.sh; scripts/test.sh runs both)
// 1. Shared policy vectors: byte-identical verdicts to the native build (policy_vectors.expected.jsonl,
//    checked natively by wasm-classifier/tests/vectors.rs).
// 2. The tiny model in WASM gives the numbers train_tiny.py computed (models/tiny/golden.json).
// 3. On the captured feeds in ../shared/data/feeds (skipped when absent): the native judge's scores fed to the
//    WASM engine's decide give the native verdicts, and the verdict agreement between the tiny model and the
//    native judge (feedwarden-judge-v3) is reported (the test requires the floor below; the 90 % goal is not met).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = path.join(ROOT, 'target/wasm/node/feedwarden_wasm.js');
if (!fs.existsSync(PKG)) {
  throw new Error(`${PKG} missing: run wasm-classifier/build.sh first`);
}
const wasm = createRequire(import.meta.url)(PKG);
const read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');

test('policy vectors: the WASM build decides exactly like the native build', () => {
  const vectors = JSON.parse(read('tests/wasm/policy_vectors.json'));
  const want = read('tests/wasm/policy_vectors.expected.jsonl').split('\n').filter(Boolean);
  const got = [];
  for (const policy of vectors.policies) {
    const source = policy.path ? read(policy.path) : policy.source;
    for (const post of vectors.posts) {
      for (const scores of vectors.scores) {
        try {
          got.push(wasm.decide(source, JSON.stringify(post), JSON.stringify(scores)));
        } catch (e) {
          got.push(`error: ${e.message}`);
        }
      }
    }
  }
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.equal(g, want[i], `vector ${i}`));
});

test('checkPolicy reports problems with lines, as natively', () => {
  const r = JSON.parse(wasm.checkPolicy('[policy]\nname = "x"\n\n[[rule]]\nid = "a"\ndescription = "d"\naction = "hide"\ntreshold = 0.5\n'));
  assert.ok(r.diagnostics.some((d) => d.line === 8 && d.code === 'unknown-key'), JSON.stringify(r));
});

test('the tiny model in WASM matches train_tiny.py', () => {
  const golden = JSON.parse(read('models/tiny/golden.json'));
  const info = JSON.parse(wasm.modelInfo());
  assert.equal(info.model, golden.model_id);
  assert.equal(info.engine, 'browser-fallback');
  const engine = new wasm.TinyEngine('');
  for (const row of golden.sentences) {
    const e = wasm.embed(row.text.replace(/\s+/g, ' ').trim());
    row.embedding_head.forEach((v, i) => assert.ok(Math.abs(e[i] - v) <= golden.tolerance_abs, `${row.text} dim ${i}`));
    const [v] = JSON.parse(engine.judge(JSON.stringify([{ id: 'g', text: row.text }])));
    for (const cat of ['rage-bait', 'manipulation', 'clickbait', 'engagement-bait']) {
      assert.ok(Math.abs(v.scores[cat] - row.probabilities[cat]) <= 1e-4 + golden.tolerance_abs, `${row.text} ${cat}`);
    }
  }
  engine.free();
});

function sharedFeeds() {
  const base = process.env.FEEDWARDEN_SHARED_DATA || path.join(ROOT, '..', 'shared', 'data');
  const feeds = path.join(base, 'feeds');
  return fs.existsSync(feeds) ? feeds : null;
}

// Issue 13's target is 90 %. The v2 tiny model reached 90.9 % against the frozen-embedding heads; v3 measured
// 81.8 % against judge v1, v4 83.7 % against judge v2, v5 87.9 % against judge v2.1, v6 88.3 % against judge v2.2,
// v7 89.7 % against judge v3, and v8 (hashed token bigrams) 91.0 % (909 of 999), which meets the target; judge v3
// shows 91.9 % of these posts, so showing everything would still agree a little more (models/cards/tiny.md).
const AGREEMENT_TARGET = 0.9;
const feeds = sharedFeeds();
const cli = path.join(ROOT, 'target/release/feedwarden');
const skip = !feeds ? 'shared data not found (../shared/data or FEEDWARDEN_SHARED_DATA)' :
  !fs.existsSync(cli) ? 'target/release/feedwarden not built (run ./setup.sh)' : false;

test('captured feeds: identical decisions given identical scores, and agreement with the native judge', { skip }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-wasm-'));
  const postsPath = path.join(tmp, 'posts.jsonl');
  fs.writeFileSync(postsPath, execFileSync('python3', [path.join(ROOT, 'tests/wasm/feed_posts.py'), feeds]));
  const posts = fs.readFileSync(postsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const outPath = path.join(tmp, 'native.jsonl');
  execFileSync(cli, ['classify', postsPath, '-o', outPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  const native = new Map(fs.readFileSync(outPath, 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l)).map((v) => [v.id, v]));
  assert.equal(native.size, posts.length);

  // identical scores → identical decisions (the native verdict carries scores rounded to 4 decimals, so a
  // score within 1e-4 of a threshold may legitimately land on the other side)
  const defaults = read('policies/defaults.toml');
  let same = 0, nearThreshold = 0;
  for (const post of posts) {
    const nv = native.get(post.id);
    const v = JSON.parse(wasm.decide(defaults, JSON.stringify(post), JSON.stringify({ categories: nv.scores, sub_labels: nv.sub_labels ?? {} })));
    if (v.action === nv.action && v.rule === nv.rule) same++;
    else if (Object.values(nv.scores).some((s) => [0.75, 0.8].some((t) => Math.abs(s - t) <= 1e-4))) nearThreshold++;
    else assert.fail(`post ${post.id}: native ${nv.action}/${nv.rule}, wasm ${v.action}/${v.rule}`);
  }

  // the tiny model against the native judge
  const engine = new wasm.TinyEngine('');
  const t0 = process.hrtime.bigint();
  const tiny = JSON.parse(engine.judge(JSON.stringify(posts)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  engine.free();
  const counts = {};
  let agree = 0;
  tiny.forEach((v, i) => {
    const nv = native.get(posts[i].id);
    const key = `${nv.action}->${v.action}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (v.action === nv.action) agree++;
  });
  const report = {
    posts: posts.length, identical_decisions_given_native_scores: same, near_threshold_rounding: nearThreshold,
    agreement: agree / posts.length, confusion_native_to_tiny: counts, node_ms_per_post: ms / posts.length,
  };
  fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'target/wasm-agreement.json'), JSON.stringify(report, null, 1));
  console.log(`[wasm] ${JSON.stringify(report)}`);
  // The 90 % (v8 with judge v3: 91.0 %, 909 of 999; none of these posts was trained on;
  // models/cards/tiny.md). Both models are fixed files, so the figure is deterministic; a change that drops it
  // below the target fails here.
  assert.ok(report.agreement >= AGREEMENT_TARGET, `verdict agreement ${report.agreement.toFixed(3)} < ${AGREEMENT_TARGET}`);
  fs.rmSync(tmp, { recursive: true, force: true });
});
