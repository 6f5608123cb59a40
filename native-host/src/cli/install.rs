//! `feedwarden install|uninstall`: register the native-messaging host with the browsers on this machine
//! (user-level manifests on Linux and macOS; on Windows a manifest file plus a registry key per browser).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::json;

/// The host's name, as the extension calls `connectNative` with it (extension/src/shared/constants.ts).
pub const HOST_NAME: &str = "org.feedwarden.host";
/// The Chromium extension id, fixed by the `key` in extension/manifests/chromium.json.
pub const CHROMIUM_EXTENSION_ID: &str = "cegiengkgffkajpkjmdpmbedpaphndmm";
/// The Firefox add-on id (extension/manifests/firefox.json).
pub const GECKO_ID: &str = "feedwarden@feedwarden.org";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Browser {
    Chrome,
    Chromium,
    Brave,
    Edge,
    Firefox,
}

impl Browser {
    pub const ALL: [Browser; 5] = [Browser::Chrome, Browser::Chromium, Browser::Brave, Browser::Edge, Browser::Firefox];

    pub fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "Chrome",
            Browser::Chromium => "Chromium",
            Browser::Brave => "Brave",
            Browser::Edge => "Edge",
            Browser::Firefox => "Firefox",
        }
    }

    pub fn is_firefox(self) -> bool {
        self == Browser::Firefox
    }

    /// The browser's user-level configuration folder (Linux, macOS), whose `NativeMessagingHosts` (or
    /// Firefox's `native-messaging-hosts`) holds host manifests.
    fn config_dir(self, home: &Path) -> PathBuf {
        if cfg!(target_os = "macos") {
            let app = home.join("Library/Application Support");
            match self {
                Browser::Chrome => app.join("Google/Chrome"),
                Browser::Chromium => app.join("Chromium"),
                Browser::Brave => app.join("BraveSoftware/Brave-Browser"),
                Browser::Edge => app.join("Microsoft Edge"),
                Browser::Firefox => app.join("Mozilla"),
            }
        } else {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            match self {
                Browser::Chrome => config.join("google-chrome"),
                Browser::Chromium => config.join("chromium"),
                Browser::Brave => config.join("BraveSoftware/Brave-Browser"),
                Browser::Edge => config.join("microsoft-edge"),
                Browser::Firefox => home.join(".mozilla"),
            }
        }
    }

    /// Where this browser looks for the host manifest (user level).
    pub fn manifest_dir(self, home: &Path) -> PathBuf {
        match self {
            Browser::Firefox if cfg!(target_os = "macos") => self.config_dir(home).join("NativeMessagingHosts"),
            Browser::Firefox => self.config_dir(home).join("native-messaging-hosts"),
            _ => self.config_dir(home).join("NativeMessagingHosts"),
        }
    }

    /// Programs whose presence on PATH means the browser is installed.
    fn executables(self) -> &'static [&'static str] {
        match self {
            Browser::Chrome => &["google-chrome", "google-chrome-stable", "chrome"],
            Browser::Chromium => &["chromium", "chromium-browser"],
            Browser::Brave => &["brave-browser", "brave"],
            Browser::Edge => &["microsoft-edge", "microsoft-edge-stable", "msedge"],
            Browser::Firefox => &["firefox", "firefox-esr"],
        }
    }

    fn mac_app(self) -> &'static str {
        match self {
            Browser::Chrome => "Google Chrome.app",
            Browser::Chromium => "Chromium.app",
            Browser::Brave => "Brave Browser.app",
            Browser::Edge => "Microsoft Edge.app",
            Browser::Firefox => "Firefox.app",
        }
    }

    /// Windows registry key (under HKCU) that points at the manifest file.
    pub fn windows_registry_key(self) -> String {
        let base = match self {
            Browser::Chrome | Browser::Chromium => r"Software\Google\Chrome",
            Browser::Brave => r"Software\BraveSoftware\Brave-Browser",
            Browser::Edge => r"Software\Microsoft\Edge",
            Browser::Firefox => r"Software\Mozilla",
        };
        format!(r"HKCU\{base}\NativeMessagingHosts\{HOST_NAME}")
    }

    /// Whether the browser seems to be installed (its program on PATH, its app on macOS, or its folder).
    pub fn present(self, home: &Path) -> bool {
        if self.config_dir(home).is_dir() {
            return true;
        }
        if cfg!(target_os = "macos")
            && [PathBuf::from("/Applications"), home.join("Applications")]
                .iter()
                .any(|d| d.join(self.mac_app()).exists())
        {
            return true;
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).any(|d| self.executables().iter().any(|x| d.join(x).is_file()))
    }
}

/// The host manifest's JSON for a browser family.
pub fn manifest_json(browser: Browser, host_path: &Path, extension_ids: &[String]) -> serde_json::Value {
    let mut m = json!({
        "name": HOST_NAME,
        "description": "Feedwarden: on-device AI filter for social-media feeds",
        "path": host_path.to_string_lossy(),
        "type": "stdio",
    });
    if browser.is_firefox() {
        m["allowed_extensions"] = json!([GECKO_ID]);
    } else {
        let origins: Vec<String> = extension_ids.iter().map(|id| format!("chrome-extension://{id}/")).collect();
        m["allowed_origins"] = json!(origins);
    }
    m
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Browsers to register with (repeatable). Default: every supported browser found on this machine.
    #[arg(long = "browser", value_enum)]
    pub browsers: Vec<Browser>,
    /// A Chromium-family profile started with --user-data-dir: write the manifest into
    /// DIR/NativeMessagingHosts (the user-level folder is ignored by such a profile).
    #[arg(long, value_name = "DIR")]
    pub user_data_dir: Option<PathBuf>,
    /// The host program to register. Default: `feedwarden-host` beside this program.
    #[arg(long, value_name = "PATH")]
    pub host_path: Option<PathBuf>,
    /// Allow another Chromium extension id too (e.g. a development build loaded without the fixed key).
    #[arg(long = "extension-id", value_name = "ID")]
    pub extension_ids: Vec<String>,
    /// Print what would be written, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Browsers to unregister from (repeatable). Default: all.
    #[arg(long = "browser", value_enum)]
    pub browsers: Vec<Browser>,
    /// A Chromium-family profile started with --user-data-dir.
    #[arg(long, value_name = "DIR")]
    pub user_data_dir: Option<PathBuf>,
}

pub fn home_dir() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set, so the browsers' folders cannot be found")
}

/// `feedwarden-host` beside the running `feedwarden`.
pub fn default_host_path() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find where feedwarden is installed")?;
    let name = if cfg!(windows) { "feedwarden-host.exe" } else { "feedwarden-host" };
    Ok(exe.parent().map(|d| d.join(name)).unwrap_or_else(|| PathBuf::from(name)))
}

/// Where a browser's manifest goes, honouring `--user-data-dir`.
pub fn manifest_path(browser: Browser, home: &Path, user_data_dir: Option<&Path>) -> PathBuf {
    let dir = match user_data_dir {
        Some(d) if !browser.is_firefox() => d.join("NativeMessagingHosts"),
        _ if cfg!(windows) => home.join("AppData/Local/Feedwarden").join(browser.name().to_lowercase()),
        _ => browser.manifest_dir(home),
    };
    dir.join(format!("{HOST_NAME}.json"))
}

fn chosen(browsers: &[Browser], home: &Path, user_data_dir: Option<&Path>) -> Vec<Browser> {
    if !browsers.is_empty() {
        let mut v = browsers.to_vec();
        v.dedup();
        return v;
    }
    if user_data_dir.is_some() {
        return vec![Browser::Chromium];
    }
    Browser::ALL.into_iter().filter(|b| b.present(home)).collect()
}

pub fn run_install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let home = home_dir()?;
    let host = match &args.host_path {
        Some(p) => std::path::absolute(p).with_context(|| format!("bad host path {}", p.display()))?,
        None => default_host_path()?,
    };
    if !host.is_file() {
        bail!(
            "the host program {} does not exist; build it with `cargo build --release` (or ./setup.sh), or pass --host-path",
            host.display()
        );
    }
    let mut ids = vec![CHROMIUM_EXTENSION_ID.to_string()];
    for id in &args.extension_ids {
        if id.len() != 32 || !id.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
            bail!("`{id}` is not a Chromium extension id (32 letters a–p, shown on chrome://extensions)");
        }
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let browsers = chosen(&args.browsers, &home, args.user_data_dir.as_deref());
    if browsers.is_empty() {
        bail!("no supported browser found (Chrome, Chromium, Brave, Edge, Firefox); name one with --browser");
    }
    for b in browsers {
        let path = manifest_path(b, &home, args.user_data_dir.as_deref());
        let text = serde_json::to_string_pretty(&manifest_json(b, &host, &ids))? + "\n";
        if args.dry_run {
            println!("would write {} ({}):\n{text}", path.display(), b.name());
            continue;
        }
        let dir = path.parent().context("manifest path has no folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if cfg!(windows) {
            register_windows(b, &path)?;
        }
        println!("{}: registered {} → {}", b.name(), path.display(), host.display());
    }
    if !args.dry_run {
        println!(
            "Done. Reload the Feedwarden extension (or restart the browser); `feedwarden doctor` checks the setup."
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn register_windows(b: Browser, manifest: &Path) -> anyhow::Result<()> {
    let status = std::process::Command::new("reg")
        .args(["add", &b.windows_registry_key(), "/ve", "/t", "REG_SZ", "/d"])
        .arg(manifest)
        .arg("/f")
        .status()
        .context("cannot run `reg` to register the host")?;
    if !status.success() {
        bail!("`reg add {}` failed", b.windows_registry_key());
    }
    Ok(())
}

pub fn run_uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let home = home_dir()?;
    let browsers = if args.browsers.is_empty() {
        if args.user_data_dir.is_some() {
            vec![Browser::Chromium]
        } else {
            Browser::ALL.to_vec()
        }
    } else {
        args.browsers.clone()
    };
    let mut removed = 0;
    for b in browsers {
        let path = manifest_path(b, &home, args.user_data_dir.as_deref());
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            println!("{}: removed {}", b.name(), path.display());
            removed += 1;
        }
        if cfg!(windows) {
            let _ = std::process::Command::new("reg").args(["delete", &b.windows_registry_key(), "/f"]).status();
        }
    }
    if removed == 0 {
        println!("Nothing to remove: the host was not registered.");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_manifest_allows_the_fixed_extension_id() {
        let m = manifest_json(Browser::Chromium, Path::new("/opt/fw/feedwarden-host"), &[CHROMIUM_EXTENSION_ID.into()]);
        assert_eq!(m["name"], HOST_NAME);
        assert_eq!(m["type"], "stdio");
        assert_eq!(m["allowed_origins"][0], format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/"));
        assert!(m.get("allowed_extensions").is_none());
    }

    #[test]
    fn firefox_manifest_names_the_gecko_id() {
        let m = manifest_json(Browser::Firefox, Path::new("/opt/fw/feedwarden-host"), &[]);
        assert_eq!(m["allowed_extensions"][0], GECKO_ID);
        assert!(m.get("allowed_origins").is_none());
    }

    #[test]
    fn user_data_dir_wins_for_chromium_family_only() {
        let home = Path::new("/home/u");
        let udd = Path::new("/tmp/profile");
        assert_eq!(
            manifest_path(Browser::Chromium, home, Some(udd)),
            udd.join("NativeMessagingHosts").join("org.feedwarden.host.json")
        );
        #[cfg(target_os = "linux")]
        assert_eq!(
            manifest_path(Browser::Firefox, home, Some(udd)),
            home.join(".mozilla/native-messaging-hosts/org.feedwarden.host.json")
        );
    }

    #[test]
    fn ids_match_the_extension_sources() {
        let constants = include_str!("../../../extension/src/shared/constants.ts");
        assert!(constants.contains(&format!("HOST_NAME = \"{HOST_NAME}\"")));
        assert!(constants.contains(&format!("CHROMIUM_EXTENSION_ID = \"{CHROMIUM_EXTENSION_ID}\"")));
        assert!(constants.contains(&format!("GECKO_ID = \"{GECKO_ID}\"")));
        let firefox = include_str!("../../../extension/manifests/firefox.json");
        assert!(firefox.contains(GECKO_ID));
    }
}
