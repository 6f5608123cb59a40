//! The seam for a model that looks at a decoded image: an [`ImageStage`] says what it is (`hello`'s id and
//! kind, the provider that runs it) and turns an image into its [`StageOutput`]. The analyzer runs the
//! installed stages side by side on each image and merges what they found into the image's analysis; a
//! stage that is not installed is a [`MissingStage`] with the reason. OCR and NSFW are stages today; CLIP's
//! image side runs beside them (its session is shared with the judge), and the VLM is a later stage with its
//! own worker (`vlm_stage`).

use image::RgbImage;

use super::nsfw::Nsfw;
use super::ocr::{Ocr, OcrLine};
use crate::model_error::ModelError;

/// What one stage found in one image.
#[derive(Debug, Clone, PartialEq)]
pub enum StageOutput {
    /// Text lines read by OCR.
    Lines(Vec<OcrLine>),
    /// P(nsfw).
    Nsfw(f32),
}

/// A model that looks at a decoded image.
pub trait ImageStage: Send + std::fmt::Debug {
    /// The model's id (`pp-ocrv6-tiny`, `open-nsfw`), as `hello` and the manifests name it.
    fn id(&self) -> &'static str;
    /// `hello`'s kind: `ocr`, `nsfw`.
    fn kind(&self) -> &'static str;
    /// The execution provider that really runs it (`CPU`, `CUDA`).
    fn provider(&self) -> &'static str;
    /// Look at one image.
    fn run(&mut self, img: &RgbImage) -> Result<StageOutput, ModelError>;
}

/// A stage that could not be loaded, and why (with what to run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingStage {
    pub id: &'static str,
    pub kind: &'static str,
    pub why: String,
}

impl ImageStage for Ocr {
    fn id(&self) -> &'static str {
        self.model().id()
    }

    fn kind(&self) -> &'static str {
        "ocr"
    }

    fn provider(&self) -> &'static str {
        self.provider
    }

    fn run(&mut self, img: &RgbImage) -> Result<StageOutput, ModelError> {
        self.read(img).map(StageOutput::Lines)
    }
}

impl ImageStage for Nsfw {
    fn id(&self) -> &'static str {
        super::nsfw::MODEL_ID
    }

    fn kind(&self) -> &'static str {
        "nsfw"
    }

    fn provider(&self) -> &'static str {
        self.provider
    }

    fn run(&mut self, img: &RgbImage) -> Result<StageOutput, ModelError> {
        self.probability(img).map(StageOutput::Nsfw)
    }
}

/// What [`run_all`] returns: each stage's output in order, and what ran beside them.
pub type StageResults<T> = (Vec<Result<StageOutput, ModelError>>, Option<Result<T, ModelError>>);

/// Run every stage on `img`, side by side (each stage's session is single-threaded: on two cores the NSFW
/// pass hides inside the OCR time, measured on the x.com images at 512 px: p50 45 → 29 ms, p95 124 → 107 ms
/// per image), and `beside` (CLIP's image side) on its own thread meanwhile. Outputs come back in the
/// stages' order; a stage or `beside` that panics gives `ModelError::Panicked`.
pub fn run_all<T: Send>(
    stages: &mut [Box<dyn ImageStage>],
    img: &RgbImage,
    beside: Option<impl FnOnce() -> Result<T, ModelError> + Send>,
) -> StageResults<T> {
    std::thread::scope(|s| {
        let beside = beside.map(|f| s.spawn(f));
        let mut iter = stages.iter_mut();
        let first = iter.next();
        let handles: Vec<_> = iter.map(|stage| s.spawn(move || stage.run(img))).collect();
        let mut out = Vec::with_capacity(handles.len() + 1);
        if let Some(stage) = first {
            out.push(stage.run(img));
        }
        for h in handles {
            out.push(h.join().unwrap_or(Err(ModelError::Panicked("an image model"))));
        }
        let beside = beside.map(|h| h.join().unwrap_or(Err(ModelError::Panicked("the CLIP pass"))));
        (out, beside)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(Option<f32>);

    impl ImageStage for Fixed {
        fn id(&self) -> &'static str {
            "fixed"
        }
        fn kind(&self) -> &'static str {
            "nsfw"
        }
        fn provider(&self) -> &'static str {
            "CPU"
        }
        fn run(&mut self, _: &RgbImage) -> Result<StageOutput, ModelError> {
            match self.0 {
                Some(p) => Ok(StageOutput::Nsfw(p)),
                None => panic!("a bug in a model wrapper"),
            }
        }
    }

    #[test]
    fn stages_run_side_by_side_in_order_and_a_panic_costs_only_its_output() {
        let img = RgbImage::new(4, 4);
        let mut stages: Vec<Box<dyn ImageStage>> =
            vec![Box::new(Fixed(Some(0.1))), Box::new(Fixed(None)), Box::new(Fixed(Some(0.3)))];
        let (out, beside) = run_all(&mut stages, &img, Some(|| Ok::<_, ModelError>(7)));
        assert_eq!(out[0].as_ref().unwrap(), &StageOutput::Nsfw(0.1));
        assert!(matches!(out[1], Err(ModelError::Panicked(_))));
        assert_eq!(out[2].as_ref().unwrap(), &StageOutput::Nsfw(0.3));
        assert_eq!(beside.unwrap().unwrap(), 7);
        let none: Option<fn() -> Result<(), ModelError>> = None;
        let (out, beside) = run_all(&mut stages[..1], &img, none);
        assert_eq!((out.len(), beside.is_none()), (1, true));
    }
}
