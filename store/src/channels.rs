//! An account's notification channels: their kinds.

use crate::Error;

crate::stored_enum! {
    /// A notification channel's kind, stored as its name.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
        DingTalk = "dingtalk",
        Webhook = "webhook",
    }
}

impl Channel {
    /// The kind a request names; email is not one an account creates (its address is
    /// a contact's, not a channel's).
    pub fn from_request(text: &str) -> Result<Self, Error> {
        Self::parse(text).ok_or_else(|| {
            Error::invalid(
                "kind",
                format!("`{text}` is not a channel (sms, dingtalk or webhook)"),
            )
        })
    }
}
