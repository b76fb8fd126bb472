//! Reports: the same sorted findings rendered as text for people (like a compiler's) and as
//! the JSON object of spec §11.

pub mod ci;
pub mod diff;
pub mod html;
pub mod json;
pub mod merge;
pub mod smoke;
pub mod text;
