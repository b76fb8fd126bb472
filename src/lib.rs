//! giftqa: preview gift effects and sign off the asset bundles that carry them.
//!
//! Data flows one way: bytes → [`bundle`] → [`format`] decoders → [`check`] rules → findings →
//! [`report`]. Everything here is GPU-free. The contract is `bundle-format.md` (the spec
//! sections are cited on each item).

#[cfg(feature = "gui")]
pub mod app;
pub mod bundle;
pub mod check;
pub mod cli;
pub mod finding;
pub mod format;
pub mod fsutil;
pub mod model;
pub mod playback;
#[cfg(feature = "gpu")]
pub mod render;
pub mod report;
