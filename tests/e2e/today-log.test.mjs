// The popup's record of today (extension/src/shared/today-log.ts): each post counted once however often it
// is judged again, the filtered ones listed with a short snippet and a safe permalink, bounded, and started
// over every day. Needs no browser, host or model.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";

globalThis.chrome = { runtime: { id: "test" } };
let T;
before(async () => {
  T = await importExtensionModule("src/shared/today-log.ts");
});

/** A post of x.com whose permalink follows from its text (the same text: the same post). */
const post = (id, text, extra = {}) => ({ id, text, site: "x.com", author: "@a", url: `https://x.com/a/status/${Buffer.from(text).toString("hex").slice(0, 64)}`, ...extra });
const verdict = (id, action, rule = action === "show" ? null : "crypto") => ({ id, action, rule, scores: {}, reason: `${action} by ${rule}` });
const day1 = new Date(2026, 11, 3, 10, 0);

test("a post judged again (new element id, policy change) is counted once and keeps one entry", () => {
  let log = T.recordVerdicts(null, [post("fw1", "Bitcoin pumps"), post("fw2", "calm walk")], [verdict("fw1", "hide"), verdict("fw2", "show")], day1);
  log = T.recordVerdicts(log, [post("fw7", "Bitcoin pumps"), post("fw8", "calm walk")], [verdict("fw7", "hide"), verdict("fw8", "show")], day1);
  const s = T.summarize(log, day1);
  assert.equal(s.judged, 2);
  assert.equal(s.filtered, 1);
  assert.deepEqual([...s.byRule], [["crypto", 1]]);
  assert.deepEqual([...s.bySite], [["x.com", 1]]);
  assert.equal(s.entries[0].snippet, "Bitcoin pumps");
  assert.match(s.entries[0].url, /^https:\/\/x\.com\/a\/status\/[0-9a-f]+$/);
});

test("a post whose quoted post loads later is the same post; posts without a permalink are told apart by text", () => {
  let log = T.recordVerdicts(null, [post("fw1", "🔥🔥🔥")], [verdict("fw1", "show")], day1);
  log = T.recordVerdicts(log, [post("fw2", "🔥🔥🔥", { quoted_text: "SOL ETF records inflows" })], [verdict("fw2", "hide")], day1);
  assert.equal(T.summarize(log, day1).judged, 1);
  log = T.recordVerdicts(log, [post("fw3", "one", { url: undefined }), post("fw4", "two", { url: undefined })], [verdict("fw3", "show"), verdict("fw4", "show")], day1);
  assert.equal(T.summarize(log, day1).judged, 3);
});

test("a post shown after it was filtered (feedback, an image update) leaves the list; a new action replaces the old", () => {
  let log = T.recordVerdicts(null, [post("fw1", "Bitcoin pumps")], [verdict("fw1", "hide")], day1);
  log = T.recordVerdicts(log, [post("fw1", "Bitcoin pumps")], [verdict("fw1", "blur", "rage-bait")], day1);
  assert.deepEqual(T.summarize(log, day1).entries.map((e) => [e.action, e.rule]), [["blur", "rage-bait"]]);
  log = T.recordVerdicts(log, [post("fw1", "Bitcoin pumps")], [verdict("fw1", "show")], day1);
  assert.equal(T.summarize(log, day1).filtered, 0);
  assert.equal(T.summarize(log, day1).judged, 1);
});

test("a new day starts over", () => {
  const log = T.recordVerdicts(null, [post("fw1", "Bitcoin pumps")], [verdict("fw1", "hide")], day1);
  const next = new Date(2026, 11, 4, 0, 1);
  assert.equal(T.summarize(log, next).judged, 0);
  assert.equal(T.recordVerdicts(log, [post("fw2", "other")], [verdict("fw2", "show")], next).judged.length, 1);
});

test("bounded and private: snippets cut, the list capped, only same-site http(s) permalinks kept", () => {
  const long = "word ".repeat(200);
  let log = T.recordVerdicts(null, [post("fw1", long)], [verdict("fw1", "hide")], day1);
  assert.ok(log.filtered[0].snippet.length <= T.SNIPPET_CHARS, "snippet truncated");
  for (const [url, kept] of [["javascript:alert(1)", false], ["https://evil.example/phish", false], ["https://x.com/a/status/1", true], ["https://mobile.x.com/a/status/1", true]]) {
    const l = T.recordVerdicts(null, [post("fw1", "Bitcoin", { url })], [verdict("fw1", "hide")], day1);
    assert.equal(l.filtered[0].url, kept ? url : undefined, url);
  }
  const many = Array.from({ length: T.MAX_FILTERED + 50 }, (_, i) => post(`fw${i}`, `crypto post number ${i}`));
  log = T.recordVerdicts(null, many, many.map((p) => verdict(p.id, "hide")), day1);
  assert.equal(log.filtered.length, T.MAX_FILTERED);
  assert.equal(log.filtered.at(-1).snippet, `crypto post number ${T.MAX_FILTERED + 49}`, "the most recent are kept");
  assert.equal(T.summarize(log, day1).judged, T.MAX_FILTERED + 50);
  assert.equal(T.parseLog({ day: 3 }), null, "a malformed stored value is ignored");
});
