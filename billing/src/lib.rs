//! Billing domain: subscriptions, pay-as-you-go metering and bills (see the billing issue).
