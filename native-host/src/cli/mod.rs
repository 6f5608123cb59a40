//! The `feedwarden` subcommands (the binary in `src/bin/feedwarden.rs` is only argument glue). Results go to
//! stdout through `output` only; diagnostics and progress to stderr.

pub mod batch;
pub mod classify;
pub mod doctor;
pub mod eval;
pub mod images;
pub mod install;
pub mod models;
pub mod output;
pub mod policy;
pub mod vlm;

use anyhow::Context;
use feedwarden_core::policy::EffectivePolicy;

use crate::embedder::{EmbedderOptions, EmbedderPool};
use crate::judge::Judge;
use crate::paths::Paths;
use crate::policy_store::{load_policy_file, load_policy_text};

/// Load a policy by path or shipped name (`feedwarden:defaults`), printing its diagnostics to stderr.
/// Errors when it cannot load at all, and, unless `keep_going`, when it has errors (rules with errors are
/// left out, so a run would silently judge with fewer rules than the file names).
pub fn load_policy_arg(arg: &str, keep_going: bool) -> anyhow::Result<EffectivePolicy> {
    let load = if arg.starts_with(feedwarden_core::policy::resolve::BUILTIN_PREFIX) {
        let src = format!("[policy]\nname = \"{arg}\"\nextends = [\"{arg}\"]\n");
        load_policy_text(&src, None, None)
    } else {
        load_policy_file(std::path::Path::new(arg), None).1
    };
    for d in &load.diagnostics {
        eprintln!("{d}");
    }
    let policy = load.policy.with_context(|| format!("the policy {arg} cannot be loaded (see the errors above)"))?;
    let errors = load.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        if !keep_going {
            anyhow::bail!(
                "the policy {arg} has {errors} error(s) (listed above) and its rules with errors would be left out; \
                 fix them, or pass --keep-going to run with the {} rule(s) that load",
                policy.enabled_rules().count()
            );
        }
        eprintln!(
            "warning: the policy {arg} has {errors} error(s); running with the {} rule(s) that load (--keep-going)",
            policy.enabled_rules().count()
        );
    }
    Ok(policy)
}

/// Load the encoder from `paths` (`workers` sessions, 0 = one per core), with a message that says what to
/// run when it is missing.
pub fn load_judge(paths: &Paths, policy: EffectivePolicy, workers: usize) -> anyhow::Result<Judge> {
    let opts = EmbedderOptions::new(paths.ort_library.clone(), &paths.models_dir);
    let embedder = EmbedderPool::try_new(&opts, workers)?;
    Ok(Judge::new(embedder, policy)?)
}

/// Judge posts' images too: their text read by OCR joins the post's text, `nsfw` is scored, and rules with an
/// `image_description` are judged with CLIP when it is installed. A missing image model is named on stderr
/// (the images are then judged without it). `base_dir`: local image files are read inside it (`batch
/// --images`); `None`: only `data:` URLs, as in the host.
pub fn attach_images(
    judge: &mut Judge,
    paths: &Paths,
    opts: &crate::images::ImageModelsOptions,
    base_dir: Option<std::path::PathBuf>,
    policy_arg: &str,
) -> anyhow::Result<()> {
    let analyzer = crate::images::ImageAnalyzer::new(opts);
    for stage in analyzer.report() {
        if let Err(e) = stage.status {
            eprintln!("warning: {} model unavailable, images are judged without it: {e}", stage.kind.to_uppercase());
        }
    }
    judge.set_image_analyzer(analyzer, base_dir);
    attach_clip(judge, paths, policy_arg)
}

/// Judge rules with an `image_description` on images too, when CLIP is installed (warns on stderr when it
/// is not). Example images are read relative to the policy file given as `policy_arg`.
pub fn attach_clip(judge: &mut Judge, paths: &Paths, policy_arg: &str) -> anyhow::Result<()> {
    let policy_dir = std::path::Path::new(policy_arg).parent().map(std::path::Path::to_path_buf);
    let clip = crate::images::image_rules::ImageRules::load(paths.ort_library.clone(), &paths.models_dir, policy_dir);
    for d in clip.diagnostics(judge.policy()) {
        eprintln!("warning: {d}");
    }
    judge.set_image_rules(clip)?;
    for d in judge.image_rules().map(|r| r.diagnostics(judge.policy())).unwrap_or_default() {
        if d.code != "images-need-clip" {
            eprintln!("warning: {d}");
        }
    }
    Ok(())
}
