//! Prompts, special tokens and yes/no scoring: SmolVLM's chat template (`<|im_start|>User:` … `<end_of_utterance>
//! \nAssistant:`, an image as `<fake_token_around_image><global-img>` + `<image>` × tokens +
//! `<fake_token_around_image>`), SmolLM2's ChatML template (`<|im_start|>user\n` … `<|im_end|>\n<|im_start|>
//! assistant\n`), the special token ids looked up by name in the tokenizer, and P(yes) from next-token logits.

use tokenizers::Tokenizer;

use super::VlmError;

/// The system turn SmolLM2's chat template adds when a conversation has none.
pub const SMOLLM2_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// SmolVLM's image placeholder token; the encoder's features replace these positions.
pub const IMAGE_TOKEN: &str = "<image>";
pub const FAKE_TOKEN_AROUND_IMAGE: &str = "<fake_token_around_image>";
pub const GLOBAL_IMAGE_TOKEN: &str = "<global-img>";
pub const END_OF_UTTERANCE: &str = "<end_of_utterance>";
pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// Which chat format the model was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// SmolVLM (Idefics3): `<|im_start|>User:` … `<end_of_utterance>\nAssistant:`.
    SmolVlm,
    /// SmolLM2-Instruct (ChatML) as its own template renders one user turn: the default system turn
    /// ([`SMOLLM2_SYSTEM`]), then `<|im_start|>user\n` … `<|im_end|>\n<|im_start|>assistant\n`.
    SmolLm2,
}

impl Template {
    /// SmolVLM's when the tokenizer knows `<end_of_utterance>`, SmolLM2's otherwise.
    pub fn detect(tokenizer: &Tokenizer) -> Self {
        if tokenizer.token_to_id(END_OF_UTTERANCE).is_some() {
            Template::SmolVlm
        } else {
            Template::SmolLm2
        }
    }

    /// The prompt for one user turn, generation prompt included. `image_tokens`: the image goes before the
    /// text as that many `<image>` tokens (SmolVLM only).
    pub fn render(self, user: &str, image_tokens: Option<usize>) -> String {
        match self {
            Template::SmolVlm => match image_tokens {
                Some(n) => format!(
                    "{IM_START}User:{FAKE_TOKEN_AROUND_IMAGE}{GLOBAL_IMAGE_TOKEN}{}{FAKE_TOKEN_AROUND_IMAGE}{user}{END_OF_UTTERANCE}\nAssistant:",
                    IMAGE_TOKEN.repeat(n)
                ),
                None => format!("{IM_START}User: {user}{END_OF_UTTERANCE}\nAssistant:"),
            },
            Template::SmolLm2 => format!(
                "{IM_START}system\n{SMOLLM2_SYSTEM}{IM_END}\n{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"
            ),
        }
    }

    /// The tokens that end the assistant's turn.
    fn stop_token_names(self) -> &'static [&'static str] {
        match self {
            Template::SmolVlm => &[END_OF_UTTERANCE, IM_END, END_OF_TEXT],
            Template::SmolLm2 => &[IM_END, END_OF_TEXT],
        }
    }
}

/// The id of a special token, or an error naming it.
pub fn token_id(tokenizer: &Tokenizer, name: &str) -> Result<u32, VlmError> {
    tokenizer.token_to_id(name).ok_or_else(|| VlmError::MissingToken(name.to_string()))
}

/// The stop ids the tokenizer has for `template` (at least one is required).
pub fn stop_ids(tokenizer: &Tokenizer, template: Template) -> Result<Vec<u32>, VlmError> {
    let ids: Vec<u32> = template.stop_token_names().iter().filter_map(|n| tokenizer.token_to_id(n)).collect();
    if ids.is_empty() {
        return Err(VlmError::MissingToken(template.stop_token_names().join(" or ")));
    }
    Ok(ids)
}

/// Spellings of the answer words whose token counts as that answer (lower case and capitalised, with and
/// without the leading space a reply after `Assistant:` starts with).
const YES_SPELLINGS: [&str; 4] = ["yes", " yes", "Yes", " Yes"];
const NO_SPELLINGS: [&str; 4] = ["no", " no", "No", " No"];

/// The token groups that mean yes and no as a next token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YesNoTokens {
    pub yes: Vec<u32>,
    pub no: Vec<u32>,
}

impl YesNoTokens {
    /// Every spelling of yes / no that is a single token in this vocabulary; an error when either group is
    /// empty.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Self, VlmError> {
        let group = |spellings: &[&str]| -> Result<Vec<u32>, VlmError> {
            let mut ids = Vec::new();
            for s in spellings {
                let enc = tokenizer.encode(*s, false).map_err(|e| VlmError::tokenize(e.to_string()))?;
                if let [id] = enc.get_ids() {
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                }
            }
            Ok(ids)
        };
        let (yes, no) = (group(&YES_SPELLINGS)?, group(&NO_SPELLINGS)?);
        if yes.is_empty() || no.is_empty() {
            return Err(VlmError::MissingToken("a single-token \"yes\" and \"no\"".into()));
        }
        Ok(YesNoTokens { yes, no })
    }

    /// P(yes) = Σ softmax(yes group) / (Σ yes group + Σ no group), from next-token logits. The full softmax's
    /// denominator cancels, so only the two groups' logits matter.
    pub fn probability(&self, logits: &[f32]) -> f32 {
        let pick = |ids: &[u32]| ids.iter().filter_map(|&i| logits.get(i as usize).copied()).collect::<Vec<f32>>();
        let (yes, no) = (pick(&self.yes), pick(&self.no));
        let max = yes.iter().chain(&no).copied().fold(f32::NEG_INFINITY, f32::max);
        if !max.is_finite() {
            return 0.5;
        }
        let mass = |v: &[f32]| v.iter().map(|l| f64::from(l - max).exp()).sum::<f64>();
        let (y, n) = (mass(&yes), mass(&no));
        (y / (y + n)) as f32
    }
}

/// The question asked for an image rule's description.
pub fn yes_no_question(description: &str) -> String {
    format!("Does this image show {}? Answer yes or no.", description.trim().trim_end_matches(['.', '?']))
}

/// What `describe` asks.
pub const DESCRIBE_PROMPT: &str = "Describe this image in one short sentence.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smolvlm_image_prompt_has_the_image_block_before_the_question() {
        let p = Template::SmolVlm.render("What is it?", Some(2));
        assert_eq!(
            p,
            "<|im_start|>User:<fake_token_around_image><global-img><image><image><fake_token_around_image>What is it?<end_of_utterance>\nAssistant:"
        );
        assert_eq!(Template::SmolVlm.render("Hi", None), "<|im_start|>User: Hi<end_of_utterance>\nAssistant:");
    }

    #[test]
    fn smollm2_prompt_has_the_default_system_turn_and_ends_with_the_assistant_turn() {
        assert_eq!(
            Template::SmolLm2.render("Hi", None),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
             <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn probability_uses_only_the_two_groups() {
        let groups = YesNoTokens { yes: vec![1, 3], no: vec![2] };
        // Equal mass: ln 2 + 0 on the yes side (two tokens at logit 0) vs one token at ln 2.
        let p = groups.probability(&[9.0, 0.0, std::f32::consts::LN_2, 0.0]);
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        let sure = groups.probability(&[0.0, 40.0, -40.0, 0.0]);
        assert!(sure > 0.999_999, "{sure}");
        // Large logits do not overflow.
        let big = groups.probability(&[0.0, 1000.0, 1000.0, 1000.0]);
        assert!((big - 2.0 / 3.0).abs() < 1e-6, "{big}");
    }

    #[test]
    fn yes_no_question_reads_naturally() {
        assert_eq!(yes_no_question(" a spider. "), "Does this image show a spider? Answer yes or no.");
        assert_eq!(yes_no_question("gore?"), "Does this image show gore? Answer yes or no.");
    }
}
