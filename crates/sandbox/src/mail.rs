//! The e-mails MAS sends. They are not delivered anywhere: they land in the sandbox mailbox,
//! where tests and the `/sandbox/mailbox` page read them.

use std::time::{Duration, SystemTime};

/// One e-mail the sandbox sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: SystemTime,
}

impl Mail {
    pub fn password_reset(to: &str, link: &str, valid_for: Duration) -> Self {
        Self::now(
            to,
            "Reset your Mirakl password",
            format!(
                "Someone asked to reset the password of your Mirakl account.\n\n\
                 Open this link to choose a new password (it works once, for {} minutes):\n{link}\n\n\
                 If you did not ask for it, ignore this e-mail: your password stays the same.",
                valid_for.as_secs() / 60
            ),
        )
    }

    pub fn verification_code(to: &str, code: &str, valid_for: Duration) -> Self {
        Self::now(
            to,
            "Your Mirakl verification code",
            format!(
                "Your verification code is {code}\n\n\
                 Enter it on the sign-in page within {} minutes. \
                 Your password was changed recently, so we check that it is really you.",
                valid_for.as_secs() / 60
            ),
        )
    }

    fn now(to: &str, subject: &str, body: String) -> Self {
        Self {
            to: to.to_owned(),
            subject: subject.to_owned(),
            body,
            sent_at: SystemTime::now(),
        }
    }
}
