//! The policy language: the rule model ([`PolicyFile`], [`Rule`]), parsing with line/column diagnostics
//! ([`parse`]), the canonical formatter ([`format`]), resolution of `extends` into the rules that run
//! ([`resolve`]), the limits that bound all of it ([`limits`]) and the checks its fuzzers run ([`fuzz`]).
//! The format is documented for users in `policies/README.md`.

mod diagnostic;
pub mod format;
pub mod fuzz;
pub mod limits;
pub mod parse;
pub mod resolve;

use serde::{Deserialize, Serialize};

pub use diagnostic::{Diagnostic, Severity};
pub use format::format_policy;
pub use parse::{parse_policy, BrokenRule, ParsedPolicy};
pub use resolve::{
    builtin_policy_source, no_files, resolve, EffectivePolicy, LoadedFile, Loader, Resolution, BUILTIN_POLICIES,
};

/// What a rule does to a post it matches. `Allow` wins over everything; otherwise hide > blur > label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "RuleAction"))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Label,
    Blur,
    Hide,
    Allow,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Hide, Action::Blur, Action::Label, Action::Allow];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Label => "label",
            Action::Blur => "blur",
            Action::Hide => "hide",
            Action::Allow => "allow",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Strength among the filtering actions (allow is handled separately: it always wins).
    pub fn severity(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Label => 1,
            Action::Blur => 2,
            Action::Hide => 3,
        }
    }
}

/// Named thresholds for people who would rather not pick a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    Low,
    Medium,
    High,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 3] = [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Medium => "medium",
            Sensitivity::High => "high",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// High sensitivity catches more (a lower threshold).
    pub fn threshold(self) -> f64 {
        match self {
            Sensitivity::Low => 0.85,
            Sensitivity::Medium => 0.70,
            Sensitivity::High => 0.50,
        }
    }
}

/// A rule's threshold as written: a probability, or a named sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Threshold {
    Value(f64),
    Sensitivity(Sensitivity),
}

impl Threshold {
    pub fn value(self) -> f64 {
        match self {
            Threshold::Value(v) => v,
            Threshold::Sensitivity(s) => s.threshold(),
        }
    }
}

/// Threshold of a rule that gives none.
pub const DEFAULT_THRESHOLD: Threshold = Threshold::Sensitivity(Sensitivity::Medium);

/// Which parts of a post a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Text,
    Images,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Text => "text",
            ContentKind::Images => "images",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "text" => Some(ContentKind::Text),
            "images" => Some(ContentKind::Images),
            _ => None,
        }
    }
}

/// The `[policy]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub homepage: Option<String>,
    pub license: Option<String>,
    /// Policies this one builds on: `feedwarden:<name>` for shipped ones, or a path relative to this file.
    pub extends: Option<Vec<String>>,
    /// Comment lines directly above `[policy]` (kept by `fmt`).
    #[serde(skip)]
    pub comments: Vec<String>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// What the rule is about, in words. For a user-defined category it *is* the category definition.
    pub description: String,
    /// A built-in category id (`rage-bait`, `manipulation`, `clickbait`); absent for a user-defined category
    /// judged from the description and examples.
    pub category: Option<String>,
    pub action: Action,
    pub threshold: Option<Threshold>,
    pub enabled: Option<bool>,
    /// Host names the rule applies on (`x.com` also matches `mobile.x.com`); absent means every site.
    pub sites: Option<Vec<String>>,
    /// What the rule judges; absent means text and images.
    pub content: Option<Vec<ContentKind>>,
    /// Authors the rule never applies to.
    pub except_authors: Option<Vec<String>>,
    /// When true, the rule never applies to accounts the page says the reader follows.
    pub except_followed: Option<bool>,
    /// What the rule's images look like, in words ("a spider"): on the host, with CLIP installed, each
    /// image of a post is scored against it and the rule also fires when an image passes the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_description: Option<String>,
    /// Example images for `image_description` (paths relative to the policy file): an image close to one of
    /// them scores high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_examples: Option<Vec<String>>,
    /// Posts that should match (examples for `policy test`, and few-shot anchors for user-defined categories).
    pub should_match: Vec<String>,
    /// Posts that should not match.
    pub should_not_match: Vec<String>,
    /// 1-based line of the `[[rule]]` header in its file (0 when built in code).
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    pub comments: Vec<String>,
}

impl Rule {
    /// A minimal enabled rule (used by tests and by code that builds policies).
    pub fn new(id: &str, description: &str, category: Option<&str>, action: Action) -> Self {
        Rule {
            id: id.to_string(),
            description: description.to_string(),
            category: category.map(str::to_string),
            action,
            threshold: None,
            enabled: None,
            sites: None,
            content: None,
            except_authors: None,
            except_followed: None,
            image_description: None,
            image_examples: None,
            should_match: Vec::new(),
            should_not_match: Vec::new(),
            line: 0,
            comments: Vec::new(),
        }
    }

    pub fn threshold_value(&self) -> f64 {
        self.threshold.unwrap_or(DEFAULT_THRESHOLD).value()
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// The category whose score this rule compares with its threshold.
    pub fn category_id(&self) -> &str {
        self.category.as_deref().unwrap_or(&self.id)
    }

    /// True when the category comes from the rule's description and examples rather than a trained head.
    pub fn is_user_defined(&self) -> bool {
        self.category.is_none()
    }

    pub fn judges(&self, kind: ContentKind) -> bool {
        self.content.as_ref().is_none_or(|c| c.contains(&kind))
    }

    /// Whether the rule applies on `site` (a host name). Posts with no site match every rule.
    pub fn applies_to_site(&self, site: Option<&str>) -> bool {
        let (Some(sites), Some(site)) = (self.sites.as_ref(), site) else {
            return true;
        };
        let site = site.trim().to_ascii_lowercase();
        let site = site.strip_prefix("www.").unwrap_or(&site);
        sites
            .iter()
            .any(|s| s == "*" || site == s || site.strip_suffix(s.as_str()).is_some_and(|rest| rest.ends_with('.')))
    }

    /// Whether the author is exempt from this rule (listed in `except_authors`, or followed and
    /// `except_followed` is set).
    pub fn exempts(&self, post: &crate::Post) -> Option<String> {
        if let (Some(list), Some(author)) = (self.except_authors.as_ref(), post.normalized_author()) {
            if list.iter().any(|a| crate::text::normalize_handle(a) == author) {
                return Some(format!("@{author} is in the rule's except_authors"));
            }
        }
        if self.except_followed == Some(true) && post.author_followed == Some(true) {
            return Some("you follow the author".to_string());
        }
        None
    }
}

/// One `[[override]]`: changes an inherited rule without copying it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub rule: String,
    pub action: Option<Action>,
    pub threshold: Option<Threshold>,
    pub enabled: Option<bool>,
    pub sites: Option<Vec<String>>,
    pub except_authors: Option<Vec<String>>,
    pub except_followed: Option<bool>,
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    pub comments: Vec<String>,
}

/// A whole policy file as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyFile {
    pub header: Header,
    pub rules: Vec<Rule>,
    pub overrides: Vec<Override>,
}
