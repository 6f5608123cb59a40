// The verdict in words (extension/src/content/reason.ts, bundled with esbuild): shipped rules read as what
// they look for, the reader's own rules by name, the numbers in brackets. Needs no browser, host or model.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { importExtensionModule } from "./lib/bundle.mjs";

let verdictSentence;
before(async () => {
  ({ verdictSentence } = await importExtensionModule("src/content/reason.ts"));
});

const verdict = (v) => ({ id: "p", scores: {}, reason: "", rule: null, ...v });

test("a shipped rule reads as what it looks for, with the rule and its score", () => {
  const v = verdict({ action: "blur", rule: "rage-bait", scores: { "rage-bait": 0.88 }, fired: [{ rule: "rage-bait", action: "blur", score: 0.88, threshold: 0.8 }], reason: 'Blurred by rule "rage-bait": rage-bait 0.88 ≥ 0.80' });
  assert.equal(verdictSentence(v), "Blurred: this looks built to make you angry (rage-bait, 0.88)");
});

test("manipulation names its strongest technique", () => {
  const v = verdict({ action: "label", rule: "manipulation", scores: { manipulation: 0.81 }, sub_labels: { manipulation: { "loaded-language": 0.7, "name-calling": 0.4 } } });
  assert.equal(verdictSentence(v), "Labelled: this uses manipulation techniques (loaded language) (manipulation, 0.81)");
});

test("the reader's own rule is named; feedback, image text and the fallback are said", () => {
  const v = verdict({ action: "hide", rule: "crypto", fired: [{ rule: "crypto", action: "hide", score: 0.964, threshold: 0.6 }], reason: 'Hidden by rule "crypto": 0.96 ≥ 0.60 (your feedback moved it from 0.41); text in the image: "…"; judged in the browser (fallback model)' });
  assert.equal(verdictSentence(v), "Hidden by your rule “crypto” (0.96) · after your feedback · text in an image · judged in the browser");
});

test("a shown post says no rule matched and names the highest score; a rule without a score has no number", () => {
  assert.equal(verdictSentence(verdict({ action: "show", scores: { clickbait: 0.12, "rage-bait": 0.3 } })), "Shown: no rule matched (highest: rage-bait, 0.30)");
  assert.equal(verdictSentence(verdict({ action: "hide", rule: "blocked-authors" })), "Hidden by your rule “blocked-authors”");
});

test("the reader's own rule reads with its description from the verdict", () => {
  const fired = [{ rule: "crypto", action: "hide", score: 0.96, threshold: 0.6 }];
  assert.equal(verdictSentence(verdict({ action: "hide", rule: "crypto", fired, description: "Crypto and NFT promotion." })), "Hidden by your rule “crypto”: crypto and NFT promotion (0.96)");
  assert.equal(verdictSentence(verdict({ action: "blur", rule: "spiders", description: "NFT shilling" })), "Blurred by your rule “spiders”: NFT shilling");
  const long = verdictSentence(verdict({ action: "label", rule: "long", description: "word ".repeat(60) }));
  assert.ok(long.length < 170 && long.includes("…"), long);
});
