//! `--shard K/N`: deterministic splitting of the input stream into blocks of [`BLOCK`] consecutive
//! records, dealt round-robin to N shards (K counts from 0, like Kubernetes' completion index and
//! `--array=0-…` in Slurm).
//!
//! Why blocks and not single records: the model runs on batches, and an int8 model with dynamic
//! quantisation scales each batch by its own activation range, so a post's score depends (in the last
//! digits) on which posts share its batch. Batches are formed inside a block only, so a block is judged
//! identically in a single run, in any shard and after a resume: the union of the shards' rows is exactly
//! the single run's rows.

/// Records per block. Part of the run's fingerprint: changing it changes batch composition.
pub const BLOCK: u64 = 256;

/// Which part of the input this process judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// A bad `--shard` argument.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardError {
    #[error("--shard {0:?} is not K/N (e.g. 0/4: the first of four shards; K counts from 0)")]
    Syntax(String),
    #[error("--shard {index}/{count}: K must be below N (shards are numbered 0 to N-1)")]
    OutOfRange { index: u64, count: u64 },
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, ShardError> {
        let (k, n) = s.split_once('/').ok_or_else(|| ShardError::Syntax(s.to_string()))?;
        let (index, count): (u64, u64) = match (k.trim().parse(), n.trim().parse()) {
            (Ok(k), Ok(n)) if n > 0 => (k, n),
            _ => return Err(ShardError::Syntax(s.to_string())),
        };
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The block a record belongs to.
    pub fn block_of(seq: u64) -> u64 {
        seq / BLOCK
    }

    /// Whether this shard judges the records of `block`.
    pub fn owns_block(&self, block: u64) -> bool {
        block % self.count == self.index
    }

    /// How many of `total` records this shard owns.
    pub fn owned_of(&self, total: u64) -> u64 {
        let blocks = total.div_ceil(BLOCK);
        (0..blocks).filter(|&b| self.owns_block(b)).map(|b| (total - b * BLOCK).min(BLOCK)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("1/4".parse::<Shard>().unwrap(), Shard { index: 1, count: 4 });
        assert_eq!("4/4".parse::<Shard>(), Err(ShardError::OutOfRange { index: 4, count: 4 }));
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn shards_partition_every_block_exactly_once() {
        let total = 10 * BLOCK + 17;
        for n in 1..6 {
            let shards: Vec<Shard> = (0..n).map(|k| Shard { index: k, count: n }).collect();
            for b in 0..total.div_ceil(BLOCK) {
                assert_eq!(shards.iter().filter(|s| s.owns_block(b)).count(), 1);
            }
            assert_eq!(shards.iter().map(|s| s.owned_of(total)).sum::<u64>(), total);
        }
    }
}
