//! Rotation with a new value entered by hand.
//!
//! Refused, with nothing changed, unless the new token:
//! - is not the value already stored,
//! - passes its test against the stored destination (`valid`, or `missing_permissions` missing
//!   nothing the stored one had),
//! - has at least the scopes the stored token's last test saw (after the providers' expansion),
//! - belongs to the same account, unless the admin confirms the change,
//! - can read every repository the token's services use.

use super::super::tokens::row_in_org;
use super::super::tokens::test::target;
use super::super::{Conflict, Error, require};
use super::store::{RotationMethod, Swap, store};
use super::{Subject, expiry_reported, subject_of};
use crate::app::state::AppState;
use crate::db::models::service::Service;
use crate::domain::account::Member;
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use crate::domain::status::TestStatus;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::Token;
use crate::providers::{TokenTarget, repos};
use chrono::{NaiveDate, NaiveTime};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;

/// A new value for a token, from the rotation form.
pub struct NewValue {
    pub secret: SecretString,
    /// The admin accepts that the new token belongs to another account.
    pub confirm_account_change: bool,
    /// Admin-entered expiry of the new token; used only for providers that report none.
    pub expires_on: Option<NaiveDate>,
}

/// Why a new value was not swapped in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationProblem {
    /// It is the value already stored.
    SameValue,
    /// Its test did not pass.
    TestFailed {
        status: TestStatus,
        reason: Option<String>,
    },
    /// Required permissions it lacks that the stored token had.
    LacksPermissions(Vec<String>),
    /// Scopes of the stored token it lacks.
    FewerScopes(Vec<String>),
    /// It belongs to another account and the admin did not confirm the change.
    AccountChanged {
        old: Option<String>,
        /// `None`: the provider did not name the account.
        new: Option<String>,
    },
    /// It cannot read a repository a service of the token deploys from.
    CannotRead { repository: String, service: String },
    /// Whether it can read the repository could not be checked (the provider's reason).
    ReadUnchecked {
        repository: String,
        service: String,
        reason: String,
    },
}

/// What became of a manual rotation.
#[derive(Debug)]
pub enum Rotated {
    /// The new value is stored; services use it now.
    Done { token: Token, outcome: TestOutcome },
    /// Nothing changed. `outcome` is the new token's test, when it was tested.
    Refused {
        subject: Subject,
        problems: Vec<RotationProblem>,
        outcome: Option<TestOutcome>,
    },
}

/// Rotate a token of the member's organization to a new value entered by hand. Holds the
/// token's rotation lease (`super::lease`): a rotation of it already running, at GitLab or by
/// hand, in this process or another, is [`Conflict::RotationRunning`] (nothing tested).
pub async fn rotate(
    state: &AppState,
    member: &Member,
    id: &TokenId,
    input: NewValue,
) -> Result<Rotated, Error> {
    require(member, Permission::ManageTokens)?;
    let Some(held) = super::lease::take(state, id).await? else {
        return Err(Error::Conflict(Conflict::RotationRunning));
    };
    let result = leased(state, member, id, input).await;
    held.release(state).await;
    result
}

async fn leased(
    state: &AppState,
    member: &Member,
    id: &TokenId,
    input: NewValue,
) -> Result<Rotated, Error> {
    let (m, tid) = (member.clone(), id.clone());
    let (row, subject, uses) = state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &tid)?;
            let subject = subject_of(conn, &row)?;
            let uses = Service::repositories_of(conn, &row.id)?;
            Ok((row, subject, uses))
        })
        .await?;
    let refused = |subject, problems, outcome| {
        Ok(Rotated::Refused {
            subject,
            problems,
            outcome,
        })
    };
    if state
        .open(&row.id, &row.key_id, &row.secret)
        .is_ok_and(|current| current.expose_secret() == input.secret.expose_secret())
    {
        return refused(subject, vec![RotationProblem::SameValue], None);
    }

    let expires_on = input
        .expires_on
        .filter(|_| !expiry_reported(subject.token.provider()));
    let known_expiry = expires_on.map(|d| d.and_time(NaiveTime::MIN).and_utc());
    let target = target(&subject.token.destination);
    let outcome = state
        .providers
        .test_token(&target, &input.secret, known_expiry)
        .await;
    let old = row.outcome()?;
    let cmp = compare(&subject.token, old.as_ref(), &outcome);
    let mut problems = cmp.problems;
    if cmp.account_mismatch && !input.confirm_account_change {
        problems.push(RotationProblem::AccountChanged {
            old: cmp.old_account,
            new: outcome.account.clone(),
        });
    }
    if problems.is_empty() {
        problems = coverage(state, &target, &input.secret, &uses).await;
    }
    if !problems.is_empty() {
        return refused(subject, problems, Some(outcome));
    }

    let swap = Swap {
        secret: input.secret,
        outcome: outcome.clone(),
        method: RotationMethod::Manual,
        account_changed: cmp.account_mismatch,
        expires_on,
    };
    let token = store(state, member, row, swap).await?;
    tracing::info!(org = %member.org.slug, token = %token.id, "token rotated by hand");
    Ok(Rotated::Done { token, outcome })
}

/// What the checks found about a new token compared with the stored one.
struct Comparison {
    problems: Vec<RotationProblem>,
    account_mismatch: bool,
    /// The stored token's account (from the token, or else its last test).
    old_account: Option<String>,
}

/// Compare a new token's test with the stored token's last known state.
fn compare(token: &Token, old: Option<&TestOutcome>, new: &TestOutcome) -> Comparison {
    let mut problems = Vec::new();
    // Permissions already named as lacking are not named again as lost scopes (one fact, one
    // sentence: the page listed "admin:repo_hook" twice).
    let mut named: HashSet<String> = HashSet::new();
    match new.status {
        TestStatus::Valid => {}
        TestStatus::MissingPermissions => {
            let old_missing: HashSet<&str> = match old {
                Some(o) if o.status == TestStatus::MissingPermissions => {
                    o.missing.iter().map(|m| m.name.as_str()).collect()
                }
                _ => HashSet::new(),
            };
            let worse: Vec<String> = new
                .missing
                .iter()
                .map(|m| m.name.as_str())
                .filter(|m| !old_missing.contains(m))
                .map(str::to_string)
                .collect();
            if !worse.is_empty() {
                named.extend(worse.iter().cloned());
                problems.push(RotationProblem::LacksPermissions(worse));
            }
        }
        status => problems.push(RotationProblem::TestFailed {
            status,
            reason: new.reason.clone().filter(|r| !r.is_empty()),
        }),
    }
    if let Some(old) = old
        && new.status.is_usable()
    {
        let have: HashSet<&str> = new.scopes.iter().map(String::as_str).collect();
        let lost: Vec<String> = old
            .scopes
            .iter()
            .filter(|s| !have.contains(s.as_str()) && !named.contains(s.as_str()))
            .cloned()
            .collect();
        if !lost.is_empty() {
            problems.push(RotationProblem::FewerScopes(lost));
        }
    }
    let old_account = token
        .account
        .clone()
        .or_else(|| old.and_then(|o| o.account.clone()));
    let account_mismatch = match (&old_account, &new.account) {
        (Some(a), Some(b)) => a != b,
        (Some(_), None) => new.status.is_usable(),
        (None, _) => false,
    };
    Comparison {
        problems,
        account_mismatch,
        old_account,
    }
}

/// Repository coverage: the new token must read every repository the token's services use
/// (`uses`: each repository with the names of its services).
async fn coverage(
    state: &AppState,
    target: &TokenTarget,
    secret: &SecretString,
    uses: &[(String, Vec<String>)],
) -> Vec<RotationProblem> {
    let mut problems = Vec::new();
    for (repository, services) in uses {
        let service = services.first().cloned().unwrap_or_default();
        match repos::can_read_repository(&state.providers, target, secret, repository).await {
            Ok(true) => {}
            Ok(false) => problems.push(RotationProblem::CannotRead {
                repository: repository.clone(),
                service,
            }),
            Err(e) => problems.push(RotationProblem::ReadUnchecked {
                repository: repository.clone(),
                service,
                reason: e.to_string(),
            }),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::expiry::ExpirySource;
    use crate::domain::ids::OrgId;
    use crate::domain::provider::{Hosting, Provider};
    use crate::domain::test_result::MissingPermission;
    use crate::domain::token::Destination;

    fn token(account: Option<&str>) -> Token {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        Token {
            id: TokenId::new("t"),
            org_id: OrgId::new("o"),
            name: "deploy".into(),
            destination: Destination {
                username: None,
                provider: Provider::Github,
                hosting: Hosting::Cloud,
                url: None,
                workspace: None,
            },
            description: None,
            hint: "ghp_…abcd".into(),
            status: TestStatus::Valid,
            last_tested_at: None,
            account: account.map(str::to_string),
            expires_at: None,
            expiry_source: None::<ExpirySource>,
            created_by: None,
            created_at: at,
            updated_by: None,
            updated_at: at,
            rotated_at: None,
            version: 1,
        }
    }

    fn outcome(
        status: TestStatus,
        scopes: &[&str],
        missing: &[&str],
        account: &str,
    ) -> TestOutcome {
        let mut o = TestOutcome::failed(status, "");
        o.reason = None;
        o.scopes = scopes.iter().map(|s| s.to_string()).collect();
        o.missing = missing
            .iter()
            .map(|m| MissingPermission {
                name: m.to_string(),
                fix: String::new(),
            })
            .collect();
        o.account = Some(account.to_string());
        o
    }

    #[test]
    fn a_token_as_good_as_the_stored_one_passes() {
        let old = outcome(TestStatus::Valid, &["repo", "read:org"], &[], "octocat");
        let new = outcome(
            TestStatus::Valid,
            &["read:org", "repo", "gist"],
            &[],
            "octocat",
        );
        let c = compare(&token(Some("octocat")), Some(&old), &new);
        assert!(c.problems.is_empty());
        assert!(!c.account_mismatch);
    }

    #[test]
    fn lost_permissions_scopes_and_account_are_named() {
        let old = outcome(
            TestStatus::Valid,
            &["repo", "admin:repo_hook"],
            &[],
            "octocat",
        );
        let new = outcome(
            TestStatus::MissingPermissions,
            &["repo"],
            &["admin:repo_hook"],
            "hubot",
        );
        let c = compare(&token(Some("octocat")), Some(&old), &new);
        assert_eq!(
            c.problems,
            // Once: the lacking permission is not repeated as a lost scope.
            vec![RotationProblem::LacksPermissions(vec![
                "admin:repo_hook".into()
            ])]
        );
        assert!(c.account_mismatch);
        assert_eq!(c.old_account.as_deref(), Some("octocat"));
    }

    #[test]
    fn permissions_the_stored_token_also_lacked_are_no_problem() {
        let old = outcome(
            TestStatus::MissingPermissions,
            &["repo"],
            &["read:org"],
            "a",
        );
        let new = outcome(
            TestStatus::MissingPermissions,
            &["repo"],
            &["read:org"],
            "a",
        );
        assert!(
            compare(&token(Some("a")), Some(&old), &new)
                .problems
                .is_empty()
        );
    }

    #[test]
    fn a_failing_test_is_a_problem_with_its_reason() {
        let mut new = outcome(TestStatus::Invalid, &[], &[], "x");
        new.account = None;
        new.reason = Some("Bad credentials".into());
        let c = compare(&token(Some("a")), None, &new);
        assert_eq!(
            c.problems,
            vec![RotationProblem::TestFailed {
                status: TestStatus::Invalid,
                reason: Some("Bad credentials".into())
            }]
        );
        // An unusable token's unknown account is not also an account change.
        assert!(!c.account_mismatch);
    }
}
