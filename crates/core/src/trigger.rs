//! [`Trigger`]: when micro-batches run, with Spark's names and meanings, parsed from a job
//! file's `trigger = "..."`.

use std::time::Duration;

/// When the next micro-batch starts (Spark's `Trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A fixed interval; `Duration::ZERO` means "as soon as the previous batch ends"
    /// (Spark's default trigger). An overrunning batch starts the next one at once; missed
    /// slots are not queued.
    ProcessingTime(Duration),
    /// One batch with everything available, ignoring rate limits, then stop.
    Once,
    /// Everything available at start, honouring rate limits (possibly several batches), then stop.
    AvailableNow,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger::ProcessingTime(Duration::ZERO)
    }
}

impl Trigger {
    /// Parses `"3 seconds"`, `"500 ms"`, `"1 minute"`, `"0"`, `"availableNow"` or `"once"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "availablenow" | "available_now" | "available-now" => return Ok(Trigger::AvailableNow),
            "once" => return Ok(Trigger::Once),
            _ => {}
        }
        let lower = lower
            .strip_prefix("processingtime=")
            .unwrap_or(&lower)
            .trim();
        let lower = lower.trim_matches(|c| c == '\'' || c == '"');
        let split = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (number, unit) = lower.split_at(split);
        let expected = || {
            format!(
                "invalid trigger '{text}': expected an interval such as \"3 seconds\", \"500 ms\" or \"0\", or \"availableNow\" or \"once\""
            )
        };
        let number: f64 = number.parse().map_err(|_| expected())?;
        let millis_per_unit = match unit.trim() {
            "" if number == 0.0 => 0.0,
            "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1.0,
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000.0,
            "h" | "hour" | "hours" => 3_600_000.0,
            _ => return Err(expected()),
        };
        if !number.is_finite() || number < 0.0 {
            return Err(expected());
        }
        Ok(Trigger::ProcessingTime(Duration::from_secs_f64(
            number * millis_per_unit / 1000.0,
        )))
    }

    /// True for the triggers that stop by themselves (`once`, `availableNow`).
    pub fn is_bounded(&self) -> bool {
        !matches!(self, Trigger::ProcessingTime(_))
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_spark_trigger_spellings() {
        let ms = |n| Ok(Trigger::ProcessingTime(Duration::from_millis(n)));
        assert_eq!(Trigger::parse("3 seconds"), ms(3000));
        assert_eq!(Trigger::parse("500 ms"), ms(500));
        assert_eq!(Trigger::parse("1 minute"), ms(60_000));
        assert_eq!(Trigger::parse("0"), ms(0));
        assert_eq!(Trigger::parse("processingTime='2 seconds'"), ms(2000));
        assert_eq!(Trigger::parse("availableNow"), Ok(Trigger::AvailableNow));
        assert_eq!(Trigger::parse("once"), Ok(Trigger::Once));
        let err = Trigger::parse("3 fortnights").unwrap_err();
        assert!(err.contains("invalid trigger '3 fortnights'"), "{err}");
        assert!(Trigger::parse("5").is_err());
    }
}
