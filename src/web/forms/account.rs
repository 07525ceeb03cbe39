//! Messages for account fields (setup page, sign-in, and the CLI's flags).

use crate::crypto::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, PasswordError};
use crate::domain::account::{BadEmail, BadSlug};

pub fn slug_message(_: BadSlug) -> &'static str {
    "Use 2–40 lower-case letters, digits and hyphens (not at the start or end), e.g. acme-corp."
}

pub fn email_message(_: BadEmail) -> &'static str {
    "Enter an e-mail address like admin@example.com."
}

pub fn password_message(e: PasswordError) -> String {
    match e {
        PasswordError::TooShort => format!("Use at least {MIN_PASSWORD_LEN} characters."),
        PasswordError::TooLong => format!("Use at most {MAX_PASSWORD_LEN} characters."),
    }
}
