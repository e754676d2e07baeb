//! An account's notification channels as stored: their kinds, their addresses and
//! secrets sealed at rest (bound to the channel's id), and the delivery target each
//! opens to. Shared by the API that manages channels and the outbox that sends.

use crate::Platform;
use delivery::Target;
pub use store::channels::Channel;

/// What a channel's sealed fields are bound to, so one channel's ciphertext cannot be
/// passed off as another's.
pub fn associated(channel_id: &str, part: &str) -> String {
    format!("notification_channels:{channel_id}:{part}")
}

/// Decrypts a channel's address and secret (empty when it has none).
pub fn open_channel(
    state: &Platform,
    channel_id: &str,
    address: &str,
    secret: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let address = String::from_utf8(
        state
            .secrets
            .open(address, &associated(channel_id, "address"))?,
    )?;
    let secret = match secret {
        Some(s) => String::from_utf8(state.secrets.open(s, &associated(channel_id, "secret"))?)?,
        None => String::new(),
    };
    Ok((address, secret))
}

/// Where a channel of `kind` delivers.
pub fn target(kind: Channel, address: String, secret: String) -> Target {
    match kind {
        Channel::Email => Target::Email { address },
        Channel::Sms => Target::Sms { phone: address },
        Channel::DingTalk => Target::DingTalk {
            webhook_url: address,
            secret,
        },
        Channel::Webhook => Target::Webhook {
            url: address,
            secret,
        },
    }
}
