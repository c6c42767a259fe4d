//! Figures for the administrators' dashboard (SPEC §9.2): logins and failures over
//! time, refusals, certificates about to expire.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// Logins in one hour.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct HourlyLogins {
    /// The hour's start (Unix seconds).
    pub hour: i64,
    pub successes: i64,
    pub failures: i64,
    /// Refused before the OTP (lock-out, rate limit, access rules, login protect).
    pub refusals: i64,
}

/// A certificate that expires soon.
#[derive(Clone, Debug, Serialize)]
pub struct ExpiringCertificate {
    pub serial: String,
    pub user_id: Option<String>,
    pub shared_profile: Option<String>,
    pub not_after: i64,
}

impl Store {
    /// Login outcomes per hour from `since` on (from the audit log).
    pub async fn hourly_logins(&self, since: i64) -> Result<Vec<HourlyLogins>, StoreError> {
        let rows = sqlx::query(
            "SELECT (at / 3600) * 3600 AS hour, \
             SUM(CASE WHEN action = 'auth.login' AND outcome = 'success' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN action = 'auth.login' AND outcome = 'failure' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN action = 'auth.refused' THEN 1 ELSE 0 END) \
             FROM audit_log WHERE at >= $1 AND action IN ('auth.login', 'auth.refused') \
             GROUP BY (at / 3600) * 3600 ORDER BY hour",
        )
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| HourlyLogins {
                hour: r.get(0),
                successes: r.get(1),
                failures: r.get(2),
                refusals: r.get(3),
            })
            .collect())
    }

    /// Valid certificates whose end falls before `until`, soonest first.
    pub async fn expiring_certificates(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<(i64, Vec<ExpiringCertificate>), StoreError> {
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM client_certificates \
             WHERE revoked_at IS NULL AND not_after > $1 AND not_after <= $2",
        )
        .bind(now)
        .bind(until)
        .fetch_one(self.reader())
        .await?
        .get(0);
        let rows = sqlx::query(
            "SELECT serial, user_id, shared_profile, not_after FROM client_certificates \
             WHERE revoked_at IS NULL AND not_after > $1 AND not_after <= $2 \
             ORDER BY not_after LIMIT $3",
        )
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        Ok((
            total,
            rows.iter()
                .map(|r| ExpiringCertificate {
                    serial: r.get(0),
                    user_id: r.get(1),
                    shared_profile: r.get(2),
                    not_after: r.get(3),
                })
                .collect(),
        ))
    }
}
