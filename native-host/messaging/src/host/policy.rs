//! The policy lifecycle: loading the file (keeping the last good policy when an edit is broken), hand
//! edits picked up between requests, `policy.get` / `policy.set` replies that fit the browser's limit.

use super::*;

/// The reader's active policy and where it came from.
#[derive(Debug)]
pub(super) struct ActivePolicy {
    /// The policy file's text as it is on disk, even when it cannot load (the editor shows it and saves it
    /// back; it must never stand in for another text); the starter policy when there is no file yet; empty
    /// when the file cannot be read as a policy text (the diagnostics say why).
    pub(super) source: String,
    pub(super) policy: EffectivePolicy,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) file: PathBuf,
    pub(super) file_mtime: Option<SystemTime>,
}

pub(super) fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Load the policy file. A file that cannot load (unreadable, or broken beyond its rules) leaves the
/// previous policy running, or the starter policy at start-up, and says so in the diagnostics; `source` stays
/// the file's own text. At start-up (`previous` is `None`) the temporary files of interrupted saves are
/// removed first. Never panics, never blocks on the file (see `policy_store::read_policy_source`).
pub(super) fn load_active(paths: &Paths, previous: Option<&EffectivePolicy>) -> ActivePolicy {
    let file = paths.policy_file();
    if previous.is_none() {
        for orphan in remove_orphaned_temp_files(&file, ORPHANED_AFTER) {
            log!("removed {}, left by a save that was interrupted", orphan.display());
        }
    }
    let file_mtime = mtime(&file);
    let starter = || load_policy_text(STARTER_POLICY, None, None).policy.expect("starter policy loads");
    if file_mtime.is_none() {
        return ActivePolicy {
            source: STARTER_POLICY.to_string(),
            policy: starter(),
            diagnostics: Vec::new(),
            file,
            file_mtime,
        };
    }
    // A bug in the policy engine must cost the policy, not the host (which must still answer `hello`).
    let (src, load) = std::panic::catch_unwind(|| load_policy_file(&file, previous)).unwrap_or_else(|_| {
        (
            None,
            PolicyLoad {
                policy: None,
                diagnostics: vec![unreadable(&file, "the policy engine failed on it unexpectedly")],
            },
        )
    });
    if let (Some(source), Some(policy)) = (&src, load.policy) {
        return ActivePolicy { source: source.clone(), policy, diagnostics: load.diagnostics, file, file_mtime };
    }
    log!("{} cannot be loaded; keeping the previous policy", file.display());
    for d in &load.diagnostics {
        log!("  {d}");
    }
    let (policy, running) = match previous {
        Some(prev) => (prev.clone(), "the last good policy stays active"),
        None => (starter(), "the shipped defaults run (as in the starter policy)"),
    };
    let mut diagnostics = load.diagnostics;
    let fix = if src.is_some() {
        "fix the problems listed and save"
    } else {
        "saving from the editor replaces it (a regular file that cannot be read is first renamed policy.toml.unreadable)"
    };
    diagnostics.push(Diagnostic::about_file(
        Severity::Warning,
        "policy-not-active",
        Some(file.display().to_string()),
        format!("this file cannot be loaded, so {running}; {fix}"),
    ));
    ActivePolicy { source: src.unwrap_or_default(), policy, diagnostics, file, file_mtime }
}

/// Diagnostics a `policy` or `policy.validation` reply lists at most (`feedwarden policy check` lists them
/// all, up to the engine's own limit).
pub(super) const REPLY_DIAGNOSTICS: usize = 50;

/// Room a `policy` reply leaves under the browser's message limit (for the request id and the framing).
pub(super) const POLICY_REPLY_BUDGET: usize = MAX_REPLY_BYTES - 16 * 1024;

/// A `policy` reply's diagnostics cut to one summary when the reply would not fit the browser's limit
/// otherwise. With the policy limits (a text of at most 128 KiB, at most 500 rules, a name cut to 200
/// characters) the rest always fits, so a saved policy can always be read back.
pub(super) fn fit_policy_reply(mut reply: PolicyReply) -> PolicyReply {
    let size = |r: &PolicyReply| serde_json::to_vec(r).map_or(usize::MAX, |b| b.len());
    if size(&reply) <= POLICY_REPLY_BUDGET {
        return reply;
    }
    let listed = reply.diagnostics.len();
    reply.diagnostics = vec![Diagnostic::about_file(
        Severity::Warning,
        "too-many-diagnostics",
        Some(reply.path.clone()),
        format!("{listed} problems are too long to list here; run `feedwarden policy check` on the file to see them"),
    )];
    reply
}

impl Host {
    /// The `policy` reply: the active policy's text, rules and diagnostics (bounded: see
    /// [`fit_policy_reply`]).
    pub(super) fn policy_reply(&self, applied: bool, diagnostics: &[Diagnostic]) -> PolicyReply {
        let p = &self.active.policy;
        let mut diagnostics = diagnostics.to_vec();
        if let Some(clip) = self.judge.as_ref().ok().and_then(Judge::image_rules) {
            diagnostics.extend(clip.diagnostics(p));
        }
        let rules = p
            .rules
            .iter()
            .map(|r| PolicyRuleInfo {
                id: r.id.clone(),
                category: r.category_id().to_string(),
                action: r.action,
                threshold: r.threshold_value(),
                enabled: r.is_enabled(),
                user_defined: r.is_user_defined(),
            })
            .collect();
        fit_policy_reply(PolicyReply {
            kind: Default::default(),
            request_id: None,
            applied,
            source: self.active.source.clone(),
            name: one_line_capped(&p.name, 200),
            hash: p.hash.clone(),
            rules,
            diagnostics: bound_diagnostics(diagnostics, REPLY_DIAGNOSTICS),
            path: self.active.file.display().to_string(),
        })
    }

    pub(super) fn policy_set(&mut self, source: String) -> Result<PolicyReply, (ErrorCode, String)> {
        let file = self.paths.policy_file();
        let load = load_policy_text(&source, Some(&file), Some(&self.active.policy));
        let Some(policy) = load.policy else {
            return Ok(self.policy_reply(false, &load.diagnostics));
        };
        if let Ok(judge) = self.judge.as_mut() {
            judge.set_policy(policy.clone()).map_err(|e| (ErrorCode::ModelError, e.to_string()))?;
        }
        keep_unreadable_policy_file(&file)
            .map_err(|e| (ErrorCode::StorageError, format!("{}: {e}", file.display())))?;
        save_atomic(&file, &source).map_err(|e| (ErrorCode::StorageError, format!("{}: {e}", file.display())))?;
        self.active = ActivePolicy { source, policy, diagnostics: load.diagnostics, file_mtime: mtime(&file), file };
        Ok(self.policy_reply(true, &self.active.diagnostics.clone()))
    }

    /// Pick up hand edits of the policy file; a broken edit keeps the current policy.
    pub(super) fn reload_policy_if_edited(&mut self) {
        let now = mtime(&self.paths.policy_file());
        if now.is_none() || now == self.active.file_mtime {
            return;
        }
        let next = load_active(&self.paths, Some(&self.active.policy));
        if next.policy.hash != self.active.policy.hash {
            if let Ok(judge) = self.judge.as_mut() {
                if let Err(e) = judge.set_policy(next.policy.clone()) {
                    log!("could not activate the edited policy: {e}");
                    return;
                }
            }
            log!("reloaded {}", next.file.display());
        }
        self.active = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest reply the limits allow (a 128 KiB policy of control characters is 768 KiB of JSON, 500
    /// rules with 64-character ids, 50 diagnostics of 400 four-byte characters) fits once its diagnostics are
    /// summarised.
    #[test]
    fn policy_replies_are_cut_to_fit() {
        let diagnostic = |i: usize| Diagnostic {
            severity: Severity::Error,
            code: "syntax".into(),
            file: Some("😀".repeat(400)),
            line: i,
            column: 1,
            rule: Some("r".repeat(64)),
            message: "😀".repeat(400),
        };
        let rule = PolicyRuleInfo {
            id: "r".repeat(64),
            category: "r".repeat(64),
            action: feedwarden_core::Action::Label,
            threshold: 0.123_456_789_012_345_67,
            enabled: true,
            user_defined: true,
        };
        let diagnostics: Vec<Diagnostic> = (1..=1_000).map(diagnostic).collect();
        let policy_reply = |rules: Vec<PolicyRuleInfo>, diagnostics: Vec<Diagnostic>| PolicyReply {
            kind: Default::default(),
            request_id: None,
            applied: true,
            source: "\u{1}".repeat(128 * 1024),
            name: "p".into(),
            hash: "h".into(),
            rules,
            diagnostics,
            path: "/data/policy.toml".into(),
        };
        let reply = fit_policy_reply(policy_reply(vec![rule; 500], bound_diagnostics(diagnostics, REPLY_DIAGNOSTICS)));
        assert!(serde_json::to_vec(&reply).unwrap().len() <= POLICY_REPLY_BUDGET);
        let listed = &reply.diagnostics;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].code, "too-many-diagnostics");
        assert!(listed[0].message.starts_with("51 problems"), "{}", listed[0]);
        // A reply that fits is left alone.
        let small = policy_reply(Vec::new(), vec![diagnostic(1)]);
        assert_eq!(fit_policy_reply(small.clone()).diagnostics, small.diagnostics);
    }
}
