//! [`OutputMode`]: which rows of the result table a sink receives. Which queries each mode
//! allows is the engine's checker's business (`engine::checker`, over the logical plan).

/// Which rows of the result table a sink receives each batch (Spark's `OutputMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// Only new rows, each emitted once (Spark's default).
    #[default]
    Append,
    /// Only the rows changed by this batch.
    Update,
    /// The whole result table every batch.
    Complete,
}

impl OutputMode {
    /// Parses `append`, `update` or `complete` (any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "append" => Ok(OutputMode::Append),
            "update" => Ok(OutputMode::Update),
            "complete" => Ok(OutputMode::Complete),
            _ => Err(format!(
                "invalid outputMode '{text}': expected append, update or complete"
            )),
        }
    }

    /// Spark's lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        assert_eq!(OutputMode::parse("Complete"), Ok(OutputMode::Complete));
        assert!(OutputMode::parse("upsert").is_err());
    }
}
