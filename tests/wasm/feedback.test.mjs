// The reader's corrections in the in-browser fallback, through the WASM build under Node: "this was fine" and
// "hide more like this" move later verdicts with core's feedback maths, as the host's do.
//   node --test tests/wasm/        (after wasm-classifier/build.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = path.join(ROOT, 'target/wasm/node/feedwarden_wasm.js');
if (!fs.existsSync(PKG)) {
  throw new Error(`${PKG} missing: run wasm-classifier/build.sh first`);
}
const wasm = createRequire(import.meta.url)(PKG);

// Clickbait and nothing else near its threshold (tiny v5: "You Won't Believe What This Dog Did Next" also scores
// manipulation 0.80, so hiding its clickbait label would show the next one).
const bait = { id: 'b', site: 'reddit.com', text: 'What This Cat Did Next Will Shock You' };
const alike = { id: 'b2', site: 'reddit.com', text: 'What This Kitten Did Next Will Shock You' };
const calm = { id: 'c', site: 'reddit.com', text: 'The city council approved the new budget on Tuesday after a two-hour debate.' };
const judge = (engine, post) => JSON.parse(engine.judge(JSON.stringify([post])))[0];
// what the extension stores (wasm-engine.ts): the embedding rounded to 5 decimals, through JSON
const row = (engine, post, kind, rule) => ({
  rule: rule ?? null, kind, embedding: Array.from(engine.embedPost(JSON.stringify(post)), (x) => Math.round(x * 1e5) / 1e5),
});

test('"this was fine" lowers the rule for that post and similar ones, not for unrelated posts', () => {
  const engine = new wasm.TinyEngine('');
  const before = judge(engine, bait);
  assert.equal(before.action, 'label', JSON.stringify(before));
  const beforeAlike = judge(engine, alike);
  const beforeCalm = judge(engine, calm);
  engine.setFeedback(JSON.stringify([row(engine, bait, 'was_fine', 'clickbait')]));
  const after = judge(engine, bait);
  assert.equal(after.action, 'show', JSON.stringify(after));
  assert.ok(after.scores.clickbait === before.scores.clickbait, 'the category score itself is kept; the rule is adjusted');
  assert.equal(beforeAlike.action, 'label', JSON.stringify(beforeAlike));
  const afterAlike = judge(engine, alike);
  assert.equal(afterAlike.action, 'show', `a similar post moves too: ${JSON.stringify(afterAlike)}`);
  assert.deepEqual(judge(engine, calm), beforeCalm);
  engine.setFeedback('[]');
  assert.deepEqual(judge(engine, bait), before, 'clearing the corrections restores the verdict');
  engine.free();
});

test('"hide more like this" for every rule raises a post the model let through', () => {
  const engine = new wasm.TinyEngine('');
  assert.equal(judge(engine, calm).action, 'show');
  engine.setFeedback(JSON.stringify([row(engine, calm, 'more_like_this')]));
  const v = judge(engine, calm);
  assert.notEqual(v.action, 'show', JSON.stringify(v));
  assert.match(v.reason, /feedback|correct/i, v.reason);
  engine.free();
});

test('the engine names its embedding: v8 has v7\'s token table, so corrections stored under v7 still apply', () => {
  const info = JSON.parse(wasm.modelInfo());
  assert.equal(info.model, 'feedwarden-tiny-v8');
  assert.equal(info.embedding, 'feedwarden-tiny-v7'); // core/src/tiny/tests.rs holds the table's fingerprint
});

test('bad feedback is refused; rows of another model are ignored', () => {
  const engine = new wasm.TinyEngine('');
  assert.throws(() => engine.setFeedback('{"not": "rows"}'), /feedback JSON/);
  const before = judge(engine, calm);
  engine.setFeedback(JSON.stringify([{ rule: null, kind: 'more_like_this', embedding: [1, 0, 0] }]));
  assert.deepEqual(judge(engine, calm), before);
  engine.free();
});
