import assert from "node:assert/strict";

// The policy the end-to-end tests run with: the shipped defaults plus two user-defined rules whose verdicts
// on the test posts are far from their thresholds (checked with `feedwarden classify --format table`), so
// the real model's outcome is deterministic.
export const E2E_POLICY = `[policy]
name = "E2E"
extends = ["feedwarden:defaults"]

[[rule]]
id = "spiders"
description = "Posts about spiders, tarantulas and other arachnids"
action = "blur"
threshold = 0.7
except_authors = ["@calmfriend"]
should_match = ["Found a huge hairy spider in the bathtub this morning", "My pet tarantula just molted, look at her new fangs"]
should_not_match = ["Our new sofa arrived today and it is very comfy"]

[[rule]]
id = "crypto"
description = "Cryptocurrency trading, tokens, ETFs and blockchain markets"
action = "hide"
threshold = 0.6
except_followed = true
should_match = ["Bitcoin just broke 100k, altcoins are pumping", "The new token sale on Coinbase is almost filled", "SOL ETF records inflows on first trading day"]
should_not_match = ["Our new sofa arrived today and it is very comfy", "The new language model is better at coding"]

[[rule]]
id = "recipes"
description = "Cooking recipes and food preparation"
action = "label"
threshold = 0.5
should_match = ["Here is my favourite pasta recipe with garlic and basil", "Bake the bread at 220 degrees for forty minutes"]
should_not_match = ["Our new sofa arrived today and it is very comfy"]
`;

export const SPIDER_TEXT = "Found a huge hairy spider crawling in my bathtub this morning, absolutely terrifying";
export const FRIEND_SPIDER_TEXT = "A small spider spun a web across my kitchen window overnight";
export const RECIPE_TEXT = "My grandmother's lemon cake recipe: butter, sugar, three eggs, flour and the zest of two lemons";
export const CALM_TEXT = "Lovely walk in the park today, the autumn leaves are beautiful";
export const CRYPTO_TEXT = "Bitcoin ETF inflows hit a record and altcoins are pumping, the new token sale on Coinbase is almost filled";

// "Hide more like this": a sourdough-starter recipe (labelled by "recipes", 0.71), and posts about a starter
// that score below the recipes threshold (0.35, 0.33) until the reader asks for more like the recipe
// (then 0.59, 0.70: measured against the real host).
export const STARTER_RECIPE_TEXT = "How I feed my sourdough starter: equal parts flour and water every morning, then leave it on the kitchen counter";
export const STARTER_TEXT = "My sourdough starter is bubbling nicely on the kitchen counter today";
export const STARTER_LATER_TEXT = "Fed my sourdough starter this evening, it is bubbling on the counter";

// Images judged after the text: a harmless post (shown on its text) whose image carries rage-bait text
// (rage-bait 0.93 ≥ 0.80 once the image text is read with it).
export const RIVER_TEXT = "Took the long way home along the river today, the water was calm";
export const RAGE_SIGN_LINES = ["THEY WANT YOU ANGRY.", "THESE IDIOTS ARE RUINING EVERYTHING.", "SHARE IF YOU ARE FURIOUS!"];

/** What E2E_POLICY does to the three marker posts every fixture feed carries: the crypto post hidden, the
 * spider post blurred, the calm one shown. `states` as `settled` returns them; `where` names the page/engine. */
export function assertMarkerPosts(states, where) {
  const by = (needle) => states.find((x) => x.text.includes(needle))?.state;
  assert.equal(by("Bitcoin ETF inflows"), "hide", `${where}: crypto post hidden ${JSON.stringify(states)}`);
  assert.equal(by("huge hairy spider"), "blur", `${where}: spider post blurred`);
  assert.equal(by("autumn leaves"), "show", `${where}: calm post shown`);
}
