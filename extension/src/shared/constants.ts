// Names that must agree between the extension, the host manifest written by `feedwarden install`
// (native-host/src/cli/install.rs) and the tests. A test checks that they match.

/** Native-messaging host name (the host manifest's `name`). */
export const HOST_NAME = "org.feedwarden.host";
/** Chromium extension id, fixed by the public `key` in manifests/chromium.json. */
export const CHROMIUM_EXTENSION_ID = "cegiengkgffkajpkjmdpmbedpaphndmm";
/** Firefox add-on id (manifests/firefox.json `browser_specific_settings.gecko.id`). */
export const GECKO_ID = "feedwarden@feedwarden.org";
/** What a reader runs when the host is missing. */
export const INSTALL_COMMAND = "feedwarden install";
export const CLIENT = "feedwarden-extension/0.1";
