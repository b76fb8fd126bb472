//! Bundle-relative path rules (spec §1): what a safe path is, and when two paths collide.

use unicode_normalization::UnicodeNormalization;

/// Why a path is unsafe, for the `path-unsafe` message.
///
/// Follows spec §1: paths use `/`, are relative, and may not contain `..`, `.`, empty
/// segments, a leading `/` or `\`, a drive letter, a NUL, or `\`.
#[must_use]
pub fn unsafe_reason(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.contains('\0') {
        return Some("the path contains a NUL byte");
    }
    if path.contains('\\') {
        return Some("the path contains a backslash");
    }
    if path.starts_with('/') {
        return Some("the path is absolute");
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("the path starts with a drive letter");
    }
    for seg in path.split('/') {
        match seg {
            "" => return Some("the path has an empty segment"),
            "." => return Some("the path has a '.' segment"),
            ".." => return Some("the path escapes the bundle root with '..'"),
            _ => {}
        }
    }
    None
}

/// The key under which two paths collide (spec §1: equal after Unicode NFC and case
/// folding): NFC, then Unicode full case folding (`CaseFolding.txt`, statuses C and F, so
/// `ß` folds to `ss` and `ſ` to `s`), then NFC again, since folding can unmake it.
#[must_use]
pub fn collision_key(path: &str) -> String {
    let nfc: String = path.nfc().collect();
    caseless::default_case_fold_str(&nfc).nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions_fold_case_fully_after_nfc() {
        for (a, b) in [
            ("ſ.gif", "s.gif"),
            ("ß.gif", "ss.gif"),
            ("Straße/A.png", "STRASSE/a.png"),
            ("e\u{301}.png", "\u{c9}.png"),
            ("ﬁ.json", "FI.json"),
        ] {
            assert_eq!(
                collision_key(a),
                collision_key(b),
                "{a:?} and {b:?} collide"
            );
        }
        assert_ne!(collision_key("a.png"), collision_key("b.png"));
    }

    #[test]
    fn unsafe_paths_are_named() {
        for p in [
            "../x", "a/../b", "./a", "a//b", "/a", "\\a", "C:/a", "a\\b", "a/", "a\0b", "",
        ] {
            assert!(unsafe_reason(p).is_some(), "{p:?} should be unsafe");
        }
        for p in ["a", "effects/rose.svga", "a.b/c..d", "...x"] {
            assert_eq!(unsafe_reason(p), None, "{p:?} should be safe");
        }
    }

    #[test]
    fn nfc_and_case_collide() {
        assert_eq!(
            collision_key("Caf\u{e9}.png"),
            collision_key("cafe\u{301}.PNG")
        );
        assert_ne!(collision_key("a.png"), collision_key("b.png"));
    }
}
