//! Reports: the same sorted findings rendered as text for people (like a compiler's) and as
//! the JSON object of spec §11.

pub mod json;
pub mod text;
