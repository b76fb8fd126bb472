//! The bundle (spec §1–§8), GPU-free: layout and limits, the manifest, integrity, signatures,
//! release history and kill documents, and the authoring operations (`pack`, `sign`).

pub mod history;
pub mod integrity;
pub mod json_scan;
pub mod manifest;
pub mod pack;
pub mod paths;
pub mod signature;
pub mod signoff;
pub mod source;
pub mod time;
