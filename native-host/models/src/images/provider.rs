//! Execution providers: CUDA when the GPU build of ONNX Runtime and a GPU are present, CPU otherwise, and the
//! name of the provider that actually runs each session. ONNX Runtime silently falls back to CPU when CUDA
//! cannot be registered, so CUDA is registered with `error_on_failure` and the fallback is done (and
//! reported) here.

use std::path::Path;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

/// Which provider to use (`FEEDWARDEN_PROVIDER=auto|cpu|cuda`, default `auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderChoice {
    /// CUDA when it can be registered, else CPU.
    #[default]
    Auto,
    Cpu,
    /// CUDA or an error.
    Cuda,
}

impl ProviderChoice {
    pub fn from_env() -> Self {
        match std::env::var("FEEDWARDEN_PROVIDER").unwrap_or_default().to_ascii_lowercase().as_str() {
            "cpu" => ProviderChoice::Cpu,
            "cuda" => ProviderChoice::Cuda,
            _ => ProviderChoice::Auto,
        }
    }
}

/// A loaded session and the provider that runs it (`"CUDA"` or `"CPU"`), with why CUDA was not used.
#[derive(Debug)]
pub struct LoadedSession {
    pub session: Session,
    pub provider: &'static str,
    pub cuda_error: Option<String>,
}

/// Build a session for `model`, trying CUDA first unless told otherwise. `intra_threads` 0 = ONNX Runtime's
/// default.
pub fn load_session(
    env: &ort::environment::Environment,
    model: &Path,
    intra_threads: usize,
    choice: ProviderChoice,
) -> Result<LoadedSession, ort::Error> {
    load_session_with(env, model, intra_threads, choice, None, "")
}

/// [`load_session`] sharing `prepacked` weights with the other sessions of the same model (the encoder's
/// pool: one session per core, one copy of the prepacked MatMul weights), with ONNX Runtime's graph
/// optimisers named in `disabled_optimizers` (comma-separated, e.g. the encoder's
/// `ENCODER_DISABLED_OPTIMIZERS`; "" for none) left out of every session.
pub fn load_session_with(
    env: &ort::environment::Environment,
    model: &Path,
    intra_threads: usize,
    choice: ProviderChoice,
    prepacked: Option<&ort::session::builder::PrepackedWeights>,
    disabled_optimizers: &str,
) -> Result<LoadedSession, ort::Error> {
    let base = || -> Result<ort::session::builder::SessionBuilder, ort::Error> {
        let mut b = Session::builder(env)?.with_optimization_level(GraphOptimizationLevel::Level3)?;
        if intra_threads > 0 {
            b = b.with_intra_threads(intra_threads)?;
        }
        if let Some(weights) = prepacked {
            b = b.with_prepacked_weights(weights)?;
        }
        if !disabled_optimizers.is_empty() {
            b = b.with_disabled_optimizers(disabled_optimizers)?;
        }
        Ok(b)
    };
    let mut cuda_error = None;
    if choice != ProviderChoice::Cpu {
        let cuda = ort::ep::CUDA::default().build().error_on_failure();
        match base()?
            .with_execution_providers([cuda])
            .map_err(ort::Error::from)
            .and_then(|mut b| b.commit_from_file(model))
        {
            Ok(session) => return Ok(LoadedSession { session, provider: "CUDA", cuda_error: None }),
            Err(e) if choice == ProviderChoice::Cuda => return Err(e),
            Err(e) => cuda_error = Some(e.to_string()),
        }
    }
    let session = base()?.commit_from_file(model)?;
    Ok(LoadedSession { session, provider: "CPU", cuda_error })
}
