//! The retry schedule of uploads and webhook deliveries (sans IO): exponential backoff
//! from a first delay, doubling per failure up to a cap, and a number of attempts per
//! target (uploads: the primary store's, then the backup's).

/// Backoff and attempt limits. Delays in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure, ms.
    pub first_delay_ms: i64,
    /// Longest delay, ms.
    pub max_delay_ms: i64,
    /// Attempts on the primary target before moving on (to the backup, or giving up).
    pub primary_attempts: i64,
    /// Attempts on the backup target (0: no backup attempts).
    pub backup_attempts: i64,
}

/// Which target an attempt goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Primary,
    Backup,
}

impl RetryPolicy {
    /// The delay before the next attempt after `failures` failed ones (>= 1), ms:
    /// `first_delay_ms * 2^(failures-1)`, at most `max_delay_ms`.
    pub fn delay_ms(&self, failures: i64) -> i64 {
        let shift = (failures.max(1) - 1).min(30) as u32;
        self.first_delay_ms
            .saturating_mul(1_i64 << shift)
            .min(self.max_delay_ms)
    }

    /// The target of attempt number `made + 1` after `made` attempts; None when every
    /// attempt is spent (the backup's only when `has_backup`).
    pub fn target(&self, made: i64, has_backup: bool) -> Option<Which> {
        if made < self.primary_attempts {
            Some(Which::Primary)
        } else if has_backup && made < self.primary_attempts + self.backup_attempts {
            Some(Which::Backup)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        first_delay_ms: 500,
        max_delay_ms: 3_000,
        primary_attempts: 3,
        backup_attempts: 2,
    };

    #[test]
    fn delays_double_up_to_the_cap() {
        let d: Vec<i64> = (1..=6).map(|f| P.delay_ms(f)).collect();
        assert_eq!(d, [500, 1_000, 2_000, 3_000, 3_000, 3_000]);
        assert_eq!(P.delay_ms(1_000), 3_000, "no overflow");
    }

    #[test]
    fn attempts_go_to_the_primary_then_the_backup_then_stop() {
        let t: Vec<_> = (0..6).map(|n| P.target(n, true)).collect();
        use Which::*;
        assert_eq!(
            t,
            [
                Some(Primary),
                Some(Primary),
                Some(Primary),
                Some(Backup),
                Some(Backup),
                None
            ]
        );
        assert_eq!(
            P.target(3, false),
            None,
            "no backup: stop after the primary's"
        );
    }
}
