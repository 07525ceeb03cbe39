//! Testing tokens: a value typed into the form (never stored), and a stored token re-tested on
//! request (its result recorded).

use super::super::audit::Who;
use super::super::checks::retest_stored;
use super::super::{Error, require};
use super::{Listed, row_in_org};
use crate::app::state::AppState;
use crate::domain::account::Member;
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use crate::domain::status::TestSource;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Destination, Token, TokenInput};
use crate::providers::TokenTarget;
use secrecy::SecretString;

/// The provider client's view of a destination.
pub fn target(d: &Destination) -> TokenTarget {
    TokenTarget {
        provider: d.provider,
        hosting: d.hosting,
        url: d.url.clone(),
        workspace: d.workspace.clone(),
        username: d.username.clone(),
    }
}

/// Test a value against the destination in the form, without saving anything.
pub async fn test_unsaved(
    state: &AppState,
    member: &Member,
    input: &TokenInput,
    secret: &SecretString,
) -> Result<TestOutcome, Error> {
    require(member, Permission::ManageTokens)?;
    Ok(state
        .providers
        .test_token(&target(&input.destination()), secret, input.known_expiry())
        .await)
}

/// What a re-test found and stored.
#[derive(Debug)]
pub struct Retested {
    /// The token as stored after the test, with its services and duplicate flag.
    pub listed: Listed,
    pub outcome: TestOutcome,
}

/// Re-test a stored token against its stored destination and record the result.
pub async fn retest(state: &AppState, member: &Member, id: &TokenId) -> Result<Retested, Error> {
    require(member, Permission::ManageTokens)?;
    let (m, tid) = (member.clone(), id.clone());
    let row = state.db(move |conn| row_in_org(conn, &m, &tid)).await?;
    let who = Who::of(member);
    let (recorded, outcome) = retest_stored(state, &row, who, TestSource::Manual).await?;
    let token = Token::try_from(&recorded.token)?;
    let listed = super::find(state, member, &token.id).await?;
    Ok(Retested { listed, outcome })
}

/// The edit form's "Test" with the token field left empty.
#[derive(Debug)]
pub enum StoredTest {
    /// The stored token, tested against its stored destination (result recorded).
    Tested(Box<Retested>),
    /// The form names another destination: a stored token is only ever sent where it was
    /// tested, so the value must be pasted again.
    DestinationChanged,
}

/// Test the stored token of `id` from its edit form, whose fields are `input`.
pub async fn test_stored_from_form(
    state: &AppState,
    member: &Member,
    id: &TokenId,
    input: &TokenInput,
) -> Result<StoredTest, Error> {
    require(member, Permission::ManageTokens)?;
    let (m, tid) = (member.clone(), id.clone());
    let row = state.db(move |conn| row_in_org(conn, &m, &tid)).await?;
    let before = TokenInput::of(&Token::try_from(&row)?);
    if input.destination_differs(&before) {
        return Ok(StoredTest::DestinationChanged);
    }
    Ok(StoredTest::Tested(Box::new(
        retest(state, member, id).await?,
    )))
}
