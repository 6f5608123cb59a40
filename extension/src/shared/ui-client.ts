// Typed calls from the extension's own pages (popup, options) to the background.
import { api } from "./browser";
import type { HostStatus, PolicyResult, StatsResult, UiToBg, ValidateResult } from "./messages";
import type { Settings } from "./settings";

async function call<T>(msg: UiToBg): Promise<T> {
  return (await api.runtime.sendMessage(msg)) as T;
}

export const bg = {
  status: () => call<HostStatus>({ type: "ui.status" }),
  reconnect: () => call<HostStatus>({ type: "ui.reconnect" }),
  stats: () => call<StatsResult>({ type: "ui.stats" }),
  policyGet: () => call<PolicyResult>({ type: "ui.policy.get" }),
  policySet: (source: string) => call<PolicyResult>({ type: "ui.policy.set", source }),
  policyValidate: (source: string) => call<ValidateResult>({ type: "ui.policy.validate", source }),
  settingsSet: (settings: Partial<Settings>) => call<{ ok: boolean; settings: Settings }>({ type: "ui.settings.set", settings }),
};

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}
