//! The built-in categories in one place: their ids, names, what they look for in plain words and what they
//! are judged from. The policy parser, the native and tiny heads (checked against this list by tests), the
//! host's judge, the extension (its reason wording and the options page's switches, through the generated
//! `protocol.gen.ts`) and the docs all read it; adding a built-in category starts here.

use serde::Serialize;

/// What a built-in category is judged from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JudgedFrom {
    /// A trained text head on the sentence embedding (the post's text and, apart, its images' text).
    Text,
    /// Images alone (a model on the host; the in-browser engine never scores it).
    Images,
}

/// One built-in category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuiltinCategory {
    /// The id a rule names in `category = "…"`.
    pub id: &'static str,
    pub name: &'static str,
    /// What it looks for, in words a reader understands, for a verdict's one-line reason
    /// ("Blurred: this looks built to make you angry").
    pub plain: &'static str,
    pub judged_from: JudgedFrom,
}

/// Every built-in category, in the order they are listed to readers.
pub const BUILTIN: [BuiltinCategory; 5] = [
    BuiltinCategory {
        id: "rage-bait",
        name: "Rage-bait",
        plain: "this looks built to make you angry",
        judged_from: JudgedFrom::Text,
    },
    BuiltinCategory {
        id: "manipulation",
        name: "Manipulation",
        plain: "this uses manipulation techniques",
        judged_from: JudgedFrom::Text,
    },
    BuiltinCategory {
        id: "clickbait",
        name: "Clickbait",
        plain: "this looks like bait to make you click",
        judged_from: JudgedFrom::Text,
    },
    BuiltinCategory {
        id: "engagement-bait",
        name: "Engagement bait",
        plain: "this looks built to farm likes, shares or comments",
        judged_from: JudgedFrom::Text,
    },
    BuiltinCategory {
        id: NSFW,
        name: "Sexually explicit images",
        plain: "an image looks sexually explicit",
        judged_from: JudgedFrom::Images,
    },
];

/// The sub-labels of the built-in categories that have them (category id, sub-label id, name), in the heads'
/// order. Verdicts name techniques from here, so the in-browser engine need not carry the native heads.
pub const SUB_LABELS: [(&str, &str, &str); 10] = [
    ("manipulation", "loaded-language", "Loaded language"),
    ("manipulation", "name-calling", "Name calling / labeling"),
    ("manipulation", "fear-appeal", "Appeal to fear / prejudice"),
    ("manipulation", "flag-waving", "Flag-waving"),
    ("manipulation", "doubt", "Doubt"),
    ("manipulation", "exaggeration", "Exaggeration / minimisation"),
    ("manipulation", "causal-oversimplification", "Causal oversimplification"),
    ("manipulation", "slogans", "Slogans"),
    ("manipulation", "false-urgency", "False urgency / scarcity"),
    ("manipulation", "us-vs-them", "Us versus them"),
];

/// The name of sub-label `id` of built-in category `category`.
pub fn sub_label_name(category: &str, id: &str) -> Option<&'static str> {
    SUB_LABELS.iter().find(|(c, s, _)| *c == category && *s == id).map(|(_, _, name)| *name)
}

/// The category scored from images by OpenNSFW on the host.
pub const NSFW: &str = "nsfw";

/// The built-in category with this id.
pub fn builtin_category(id: &str) -> Option<&'static BuiltinCategory> {
    BUILTIN.iter().find(|c| c.id == id)
}

/// Whether `id` names a built-in category judged from images alone (no text head).
pub fn judged_from_images(id: &str) -> bool {
    builtin_category(id).is_some_and(|c| c.judged_from == JudgedFrom::Images)
}

/// The ids, in order.
pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_ids() -> Vec<&'static str> {
        BUILTIN.iter().filter(|c| c.judged_from == JudgedFrom::Text).map(|c| c.id).collect()
    }

    #[test]
    fn every_text_category_has_a_native_head_and_a_tiny_head_and_nothing_else_does() {
        let native: Vec<&str> = crate::builtin_heads().iter().map(|h| h.id.as_str()).collect();
        assert_eq!(native, text_ids(), "models/heads/*.json (compiled into heads.rs) against the registry");
        let tiny: Vec<&str> = crate::tiny::shipped_heads().iter().map(|h| h.id.as_str()).collect();
        assert_eq!(tiny, text_ids(), "models/tiny/heads/*.json against the registry");
        for c in BUILTIN.iter().filter(|c| c.judged_from == JudgedFrom::Text) {
            assert_eq!(crate::heads::builtin_head(c.id).map(|h| h.name.as_str()), Some(c.name), "{}", c.id);
        }
    }

    #[test]
    fn the_sub_label_list_is_the_native_and_the_tiny_heads_sub_labels() {
        let listed: Vec<(&str, &str, &str)> = SUB_LABELS.to_vec();
        for heads in [crate::builtin_heads(), crate::tiny::shipped_heads()] {
            let in_heads: Vec<(&str, &str, &str)> = heads
                .iter()
                .flat_map(|h| h.sub_labels.iter().map(move |s| (h.id.as_str(), s.id.as_str(), s.name.as_str())))
                .collect();
            assert_eq!(in_heads, listed);
        }
        assert_eq!(sub_label_name("manipulation", "doubt"), Some("Doubt"));
        assert_eq!(sub_label_name("clickbait", "doubt"), None);
    }

    #[test]
    fn ids_are_unique_and_lookups_agree() {
        let mut ids: Vec<&str> = builtin_ids().collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), BUILTIN.len());
        assert!(judged_from_images(NSFW) && !judged_from_images("rage-bait") && !judged_from_images("mine"));
        assert_eq!(builtin_category("clickbait").map(|c| c.judged_from), Some(JudgedFrom::Text));
    }

    #[test]
    fn the_policy_docs_describe_every_category() {
        let readme = include_str!("../../policies/README.md");
        for c in BUILTIN {
            assert!(readme.contains(&format!("`{}`", c.id)), "policies/README.md does not mention `{}`", c.id);
        }
    }
}
