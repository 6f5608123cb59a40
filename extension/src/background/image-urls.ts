// Which image URLs the background may fetch on a page's behalf (issue 11): only public http(s) hosts, and
// for sites whose media hosts are known, only the site itself and those hosts.
//
// A post's image URLs come from the page, which is untrusted: without this check a page could make the
// extension send blind requests to the reader's router, printer or a local dev server (loopback and private
// addresses), outside the page's own private-network and CSP rules. The check is syntactic: a public name
// that resolves to a private address (DNS rebinding) is not caught here, which is why the sites with known
// media hosts are held to those (SITE_MEDIA_HOSTS); Mastodon instances, whose media may live anywhere, get
// the public-host rule only. Fetches also omit credentials, refuse redirects and accept only images
// (images.ts).
//
// The end-to-end tests need no exception: their pages and images are served under the sites' real host
// names by a local proxy (tests/e2e/lib/server.mjs), so the browser never sees a loopback URL and this
// policy runs in tests exactly as it does for readers. There is deliberately no switch to loosen it.

/** Longest image URL accepted. */
export const MAX_IMAGE_URL = 2000;

/** Top-level names that never reach the public internet (RFC 6761, RFC 8375, common private suffixes). */
const PRIVATE_SUFFIXES = ["localhost", "local", "localdomain", "internal", "intranet", "lan", "home", "corp", "private", "home.arpa", "test", "invalid", "example", "onion"];

/** Where each site with known media hosts serves its images: the site's own domain (and its subdomains)
 * plus these (an entry starting with "." allows any subdomain). Keyed by the domain the page is on. */
export const SITE_MEDIA_HOSTS: Record<string, string[]> = {
  "x.com": [".twimg.com"],
  "twitter.com": [".twimg.com"],
  "reddit.com": [".redd.it", ".redditmedia.com", ".redditstatic.com"],
  "bsky.app": [".bsky.app", ".bsky.social"],
  "youtube.com": [".ytimg.com", ".ggpht.com", ".googleusercontent.com"],
  "threads.net": [".cdninstagram.com", ".fbcdn.net"],
  "threads.com": [".cdninstagram.com", ".fbcdn.net"],
  "linkedin.com": [".licdn.com"],
};

function underDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

function matchesEntry(host: string, entry: string): boolean {
  return entry.startsWith(".") ? host.endsWith(entry) || host === entry.slice(1) : host === entry;
}

/** The entry of SITE_MEDIA_HOSTS for a page's host name, if any. */
function siteDomain(site: string): string | null {
  const s = site.toLowerCase().replace(/\.$/, "");
  return Object.keys(SITE_MEDIA_HOSTS).find((d) => underDomain(s, d)) ?? null;
}

/** Why `raw` must not be fetched for a page on `site` (the page's host name, from the browser), or null when
 * it may be. The reasons are sentences for logs and tests. */
export function imageUrlRefusal(raw: unknown, site: string): string | null {
  if (typeof raw !== "string") return "not a string";
  if (raw.length > MAX_IMAGE_URL) return `longer than ${MAX_IMAGE_URL} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `scheme ${url.protocol} (only http and https)`;
  if (url.username || url.password) return "carries credentials";
  if (url.port) return `explicit port ${url.port} (only the default ports)`;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return "no host";
  if (host.startsWith("[") || /^[0-9.]+$/.test(host)) return `an IP address (${host}), not a public host name`;
  if (!host.includes(".")) return `a bare host name (${host})`;
  const suffix = PRIVATE_SUFFIXES.find((s) => underDomain(host, s));
  if (suffix) return `a private-network name (.${suffix})`;
  const domain = siteDomain(site);
  if (domain && !underDomain(host, domain) && !SITE_MEDIA_HOSTS[domain].some((e) => matchesEntry(host, e))) {
    return `not a media host of ${domain} (${host})`;
  }
  return null;
}

/** The image URLs of a post from `site` that may be fetched (the others are dropped). */
export function fetchableImages(urls: readonly unknown[], site: string): string[] {
  return urls.filter((u): u is string => imageUrlRefusal(u, site) === null);
}
