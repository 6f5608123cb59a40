// Names that must agree between the extension, the host manifest written by `feedwarden install`
// (native-host/src/cli/install.rs) and the tests. A test checks that they match.

/** Native-messaging host name (the host manifest's `name`). */
export const HOST_NAME = "org.feedwarden.host";
/** Chromium extension id, fixed by the public `key` in manifests/chromium.json. */
export const CHROMIUM_EXTENSION_ID = "cegiengkgffkajpkjmdpmbedpaphndmm";
/** Firefox add-on id (manifests/firefox.json `browser_specific_settings.gecko.id`). */
export const GECKO_ID = "feedwarden@feedwarden.org";
/** What a reader runs when the host is missing and the `feedwarden` program is on PATH… */
export const INSTALL_COMMAND = "feedwarden install";
/** …and in the folder where Feedwarden was built (./setup.sh) when it is not: the popup and options page
 * show this one, since the extension cannot know where the program is before the host is registered. */
export const INSTALL_FROM_CHECKOUT = "./target/release/feedwarden install";
/** storage.local: the policy source the host last reported, which the in-browser fallback applies. */
export const FALLBACK_POLICY_KEY = "fallbackPolicySource";
/** The policy the fallback applies before the host ever reported one: the shipped defaults. */
export const DEFAULT_POLICY_SOURCE = '[policy]\nname = "Feedwarden defaults"\nextends = ["feedwarden:defaults"]\n';
export const CLIENT = "feedwarden-extension/0.1";
