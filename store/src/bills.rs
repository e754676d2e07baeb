//! Bills and their lines: pay-as-you-go usage priced per period.
