//! `feedwarden install|uninstall`: register the native-messaging host with the browsers on this machine
//! (user-level manifests on Linux and macOS; on Windows a manifest file plus a registry key per browser),
//! and record each registration in the data folder so that `feedwarden doctor` finds them all, those made
//! for a profile with `--user-data-dir` included.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::output::outln;
use crate::paths::{Paths, ENV_HOME};

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

/// The file in the data folder where `feedwarden install` records the manifests it wrote.
pub const REGISTRATIONS_FILE: &str = "registrations.json";

/// One host manifest written by `feedwarden install`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The browser, as `--browser` names it (`chromium`, `firefox`, …).
    pub browser: String,
    /// The manifest file.
    pub manifest: PathBuf,
    /// The profile it was written into (`--user-data-dir`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data_dir: Option<PathBuf>,
}

impl Registration {
    /// The browser this registration is for (None for a name this version does not know).
    pub fn browser(&self) -> Option<Browser> {
        Browser::from_str(&self.browser, true).ok()
    }

    /// The command that writes this registration again.
    pub fn install_command(&self) -> String {
        match &self.user_data_dir {
            Some(d) => format!("feedwarden install --browser {} --user-data-dir '{}'", self.browser, d.display()),
            None => format!("feedwarden install --browser {}", self.browser),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegistrationsRecord {
    registrations: Vec<Registration>,
}

/// `registrations.json` in the data folder.
pub fn registrations_path(data_dir: &Path) -> PathBuf {
    data_dir.join(REGISTRATIONS_FILE)
}

/// The registrations recorded in the data folder; none when nothing was recorded yet. A record that cannot
/// be read is an error naming the file.
pub fn read_registrations(data_dir: &Path) -> Result<Vec<Registration>, String> {
    let path = registrations_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    serde_json::from_str::<RegistrationsRecord>(&text)
        .map(|r| r.registrations)
        .map_err(|e| format!("{} is not a registrations record: {e}", path.display()))
}

/// Record `added` (replacing earlier entries for the same manifests) and forget the manifests in `removed`.
/// A record that cannot be read is rewritten from what is known now.
fn update_registrations(data_dir: &Path, added: &[Registration], removed: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let path = registrations_path(data_dir);
    let mut all = read_registrations(data_dir).unwrap_or_default();
    all.retain(|r| !removed.contains(&r.manifest) && !added.iter().any(|a| a.manifest == r.manifest));
    all.extend(added.iter().cloned());
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let text = serde_json::to_string_pretty(&RegistrationsRecord { registrations: all })? + "\n";
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Where this `feedwarden` is, and how to put it on PATH when no folder on `path_var` holds it.
pub fn path_advice(exe: &Path, path_var: Option<OsString>) -> String {
    let same = |p: &Path| match (std::fs::canonicalize(p), std::fs::canonicalize(exe)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let name = exe.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("feedwarden"));
    let on_path = path_var.is_some_and(|v| std::env::split_paths(&v).any(|d| same(&d.join(&name))));
    if on_path {
        return format!("The feedwarden command is {} (on PATH).", exe.display());
    }
    let dir = exe.parent().unwrap_or(Path::new("."));
    if cfg!(windows) {
        format!(
            "The feedwarden command is {}; its folder is not on PATH, so typing `feedwarden` will not find it.\n\
             To put it on PATH: setx PATH \"%PATH%;{}\" (then open a new terminal).",
            exe.display(),
            dir.display()
        )
    } else {
        format!(
            "The feedwarden command is {}; its folder is not on PATH, so typing `feedwarden` will not find it.\n\
             To put it on PATH, link it into a folder on PATH:\n    ln -s '{}' ~/.local/bin/feedwarden\n\
             or add its folder to PATH in your shell's profile (~/.profile, ~/.bashrc or ~/.zshrc):\n    \
             export PATH=\"{}:$PATH\"",
            exe.display(),
            exe.display(),
            dir.display()
        )
    }
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
    let mut written = Vec::new();
    for b in browsers {
        let path = manifest_path(b, &home, args.user_data_dir.as_deref());
        let text = serde_json::to_string_pretty(&manifest_json(b, &host, &ids))? + "\n";
        if args.dry_run {
            outln!("would write {} ({}):\n{text}", path.display(), b.name());
            continue;
        }
        let dir = path.parent().context("manifest path has no folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if cfg!(windows) {
            register_windows(b, &path)?;
        }
        outln!("{}: registered {} → {}", b.name(), path.display(), host.display());
        written.push(Registration {
            browser: b.name().to_lowercase(),
            manifest: path,
            user_data_dir: if b.is_firefox() { None } else { args.user_data_dir.clone() },
        });
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let paths = Paths::discover();
    match update_registrations(&paths.data_dir, &written, &[]) {
        Ok(record) => outln!("Recorded in {} (`feedwarden doctor` checks what is recorded there).", record.display()),
        // The manifests are written and work; only doctor's view of them is missing.
        Err(e) => eprintln!("warning: {e:#}; `feedwarden doctor` will need the same --user-data-dir to find it"),
    }
    if let Some(d) = &args.user_data_dir {
        outln!(
            "This registration is in the profile {}: the browser finds it only when started with --user-data-dir={}.",
            d.display(),
            d.display()
        );
    }
    if std::env::var_os(ENV_HOME).is_some_and(|v| !v.is_empty()) {
        outln!(
            "{ENV_HOME} is set ({}): the host uses it only if the browser itself is started with {ENV_HOME} in its \
             environment (the browser starts the host); otherwise the host uses its default folder. \
             Run `feedwarden doctor` with the same {ENV_HOME}.",
            paths.data_dir.display()
        );
    }
    match std::env::current_exe() {
        Ok(exe) => outln!("{}", path_advice(&exe, std::env::var_os("PATH"))),
        Err(e) => eprintln!("warning: cannot tell where this feedwarden is: {e}"),
    }
    outln!("Done. Reload the Feedwarden extension (or restart the browser); `feedwarden doctor` checks the setup.");
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
    let paths = Paths::discover();
    // Without --user-data-dir, the registrations install recorded for profiles go too.
    let recorded = if args.user_data_dir.is_none() {
        read_registrations(&paths.data_dir).unwrap_or_else(|e| {
            eprintln!("warning: {e}");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let mut targets: Vec<PathBuf> =
        browsers.iter().map(|b| manifest_path(*b, &home, args.user_data_dir.as_deref())).collect();
    for r in &recorded {
        if r.browser().is_some_and(|b| browsers.contains(&b)) && !targets.contains(&r.manifest) {
            targets.push(r.manifest.clone());
        }
    }
    let mut gone = 0;
    for path in &targets {
        if path.exists() {
            std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
            outln!("removed {}", path.display());
            gone += 1;
        }
    }
    if cfg!(windows) {
        for b in &browsers {
            let _ = std::process::Command::new("reg").args(["delete", &b.windows_registry_key(), "/f"]).status();
        }
    }
    if registrations_path(&paths.data_dir).exists() {
        update_registrations(&paths.data_dir, &[], &targets)?;
    }
    if gone == 0 {
        outln!("Nothing to remove: the host was not registered.");
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
