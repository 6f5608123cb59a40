// The one place that knows about browser differences. Firefox has `browser.*` (promises) and a `chrome.*`
// alias; Chromium has `chrome.*` with promises in MV3. Everything else imports `api` from here.

declare const browser: typeof chrome | undefined;

export const api: typeof chrome =
  typeof browser !== "undefined" && browser && (browser as typeof chrome).runtime ? (browser as typeof chrome) : chrome;

export const isFirefox: boolean = typeof browser !== "undefined" && !!browser && !!(browser as typeof chrome).runtime;

/** True while this script's extension context is alive (false after the extension was reloaded or removed). */
export function contextAlive(): boolean {
  try {
    return !!api.runtime?.id;
  } catch {
    return false;
  }
}

export function isContextInvalidated(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /Extension context invalidated|context invalidated|Receiving end does not exist.*reload/i.test(msg);
}

/** Set the toolbar badge (Chromium: `action`; Firefox MV3: `action` too). */
export function setBadge(text: string, color: string): void {
  try {
    void api.action.setBadgeText({ text });
    void api.action.setBadgeBackgroundColor({ color });
  } catch {
    /* no action API in this context */
  }
}
