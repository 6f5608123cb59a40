// The verdict in words for the reader: one sentence naming what the rule looks for ("Blurred: this looks
// built to make you angry (rage-bait, 0.88)"), the numbers kept for the "Why?" panel.
import { BUILTIN_CATEGORIES, type Verdict } from "../shared/protocol";

const ACTION_WORD: Record<string, string> = { hide: "Hidden", blur: "Blurred", label: "Labelled", allow: "Allowed", show: "Shown" };

/** What the shipped rules look for, in plain words (shorter than their `description` in policies/*.toml). A
 * reader's own rule is named by its id and the `description` the verdict carries. */
const PLAIN: Record<string, string> = Object.fromEntries(BUILTIN_CATEGORIES.map((c) => [c.id, c.plain]));

/** A manipulation technique's id as words ("loaded-language" → "loaded language"). */
const words = (id: string): string => id.replace(/[-_]+/g, " ");

/** The deciding rule's score: from `fired`, else the category of the same name. */
export function decidingScore(v: Verdict): number | null {
  if (!v.rule) return null;
  const f = v.fired?.find((x) => x.rule === v.rule);
  if (f && Number.isFinite(f.score)) return f.score;
  const s = v.scores?.[v.rule];
  return typeof s === "number" && Number.isFinite(s) ? s : null;
}

/** The strongest technique the host found for a category (≥ 0.5), if any. */
function topTechnique(v: Verdict, category: string): string | null {
  const m = v.sub_labels?.[category];
  if (!m) return null;
  let best: [string, number] | null = null;
  for (const [k, s] of Object.entries(m)) if (s >= 0.5 && (!best || s > best[1])) best = [k, s];
  return best ? words(best[0]) : null;
}

/** A rule's description as the middle of a sentence: first letter lower-cased (unless it starts an acronym
 * such as "NFT"), no final full stop, at most 120 characters. */
function describe(d: string | undefined): string {
  let s = (d ?? "").replace(/\s+/g, " ").trim().replace(/[.。]+$/, "");
  if (!s) return "";
  if (!/^\p{Lu}{2}/u.test(s)) s = s.charAt(0).toLowerCase() + s.slice(1);
  return s.length > 120 ? `${s.slice(0, 119).trimEnd()}…` : s;
}

/** One sentence for the reader, e.g. `Blurred: this looks built to make you angry (rage-bait, 0.88)`. */
export function verdictSentence(v: Verdict): string {
  const verb = ACTION_WORD[v.action] ?? "Filtered";
  const score = decidingScore(v);
  const num = score === null ? "" : score.toFixed(2);
  let out: string;
  if (!v.rule) {
    const top = Object.entries(v.scores ?? {}).sort((a, b) => b[1] - a[1])[0];
    out = top ? `${verb}: no rule matched (highest: ${top[0]}, ${top[1].toFixed(2)})` : `${verb}: no rule matched`;
  } else if (PLAIN[v.rule]) {
    const technique = v.rule === "manipulation" ? topTechnique(v, "manipulation") : null;
    const what = technique ? `${PLAIN[v.rule]} (${technique})` : PLAIN[v.rule];
    out = `${verb}: ${what} (${num ? `${v.rule}, ${num}` : v.rule})`;
  } else {
    const what = describe(v.description);
    out = `${verb} by your rule “${v.rule}”${what ? `: ${what}` : ""}${num ? ` (${num})` : ""}`;
  }
  const reason = v.reason ?? "";
  if (/your feedback/i.test(reason)) out += " · after your feedback";
  if (/in the image/i.test(reason)) out += " · text in an image";
  if (/fallback/i.test(reason)) out += " · judged in the browser";
  return out;
}
