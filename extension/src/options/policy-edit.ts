// Small, predictable edits of a policy's TOML text made by the options page's switches, so the reader's
// own text and comments are kept: the `extends` list, and one block of [[override]]s at the end that the
// options page owns (marked by a comment).

import { BUILTIN_CATEGORIES } from "../shared/protocol";

export const SHIPPED = ["feedwarden:defaults", "feedwarden:strict"] as const;
/** The built-in categories a sensitivity switch is offered for: those judged from text (core/src/categories.rs,
 * through the generated protocol file). */
export const CATEGORIES: readonly string[] = BUILTIN_CATEGORIES.filter((c) => c.judged_from === "text").map((c) => c.id);
export type Sensitivity = "default" | "low" | "medium" | "high" | "off";

const MANAGED = "# --- sensitivity set by the Feedwarden options page (edited there; keep this line) ---";

export function readExtends(src: string): string[] {
  const m = /^\s*extends\s*=\s*\[([^\]]*)\]/m.exec(policyTable(src));
  if (!m) return [];
  return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
}

function policyTable(src: string): string {
  const i = src.search(/^\s*\[\[(rule|override)\]\]/m);
  return i < 0 ? src : src.slice(0, i);
}

export function writeExtends(src: string, list: string[]): string {
  const line = `extends = [${list.map((x) => JSON.stringify(x)).join(", ")}]`;
  const head = policyTable(src);
  const rest = src.slice(head.length);
  if (/^\s*extends\s*=\s*\[[^\]]*\]/m.test(head)) return head.replace(/^(\s*)extends\s*=\s*\[[^\]]*\]/m, `$1${line}`) + rest;
  const m = /^\s*\[policy\]\s*$/m.exec(head);
  if (!m) return src;
  const at = m.index + m[0].length;
  return head.slice(0, at) + "\n" + line + head.slice(at) + rest;
}

export function readSensitivity(src: string): Record<string, Sensitivity> {
  const out: Record<string, Sensitivity> = {};
  const i = src.indexOf(MANAGED);
  if (i < 0) return out;
  const block = src.slice(i);
  for (const m of block.matchAll(/\[\[override\]\]\s*\nrule\s*=\s*"([^"]+)"\s*\n(sensitivity\s*=\s*"(low|medium|high)"|enabled\s*=\s*false)/g)) {
    out[m[1]] = m[3] ? (m[3] as Sensitivity) : "off";
  }
  return out;
}

export function writeSensitivity(src: string, values: Record<string, Sensitivity>): string {
  const i = src.indexOf(MANAGED);
  let base = (i < 0 ? src : src.slice(0, i)).replace(/\s+$/, "") + "\n";
  const entries = Object.entries(values).filter(([, v]) => v !== "default");
  if (!entries.length) return base;
  base += `\n${MANAGED}\n`;
  for (const [rule, v] of entries) {
    base += `[[override]]\nrule = "${rule}"\n${v === "off" ? "enabled = false" : `sensitivity = "${v}"`}\n\n`;
  }
  return base.replace(/\n+$/, "\n");
}
