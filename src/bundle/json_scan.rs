//! A byte-offset scanner for JSON that `serde_json` has already accepted.
//!
//! It finds duplicate object keys (spec §2, `json-duplicate-key`, reported with their JSON
//! pointer, RFC 6901) and records the byte span of every value and the position of every
//! object's closing brace, so `giftqa pack` can rewrite `files[].size` and `files[].blake3` in
//! place and keep every other byte of `manifest.json` as the author wrote it.

use std::collections::{BTreeMap, HashSet};

/// Spans of a scanned JSON document.
#[derive(Debug, Default)]
pub struct JsonSpans {
    /// JSON pointer → byte range of the value (start inclusive, end exclusive).
    pub values: BTreeMap<String, (usize, usize)>,
    /// JSON pointer of an object → byte offset of its closing `}`.
    pub object_ends: BTreeMap<String, usize>,
    /// JSON pointers of keys that occur twice in their object (the second occurrence).
    pub duplicates: Vec<String>,
}

/// Escapes one reference token of a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
#[must_use]
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Scans `text`, which must be valid JSON (check with `serde_json` first).
///
/// Depth is bounded by the caller's `serde_json` parse (its recursion limit is 128), so the
/// recursion here is bounded too. Returns `None` if the text turns out not to be valid JSON.
#[must_use]
pub fn scan(text: &str) -> Option<JsonSpans> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
        out: JsonSpans::default(),
    };
    s.ws();
    s.value(String::new(), 0)?;
    s.ws();
    (s.i == s.b.len()).then_some(s.out)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    out: JsonSpans,
}

const MAX_DEPTH: usize = 256;

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self, ptr: String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.i;
        match self.peek()? {
            b'{' => self.object(&ptr, depth)?,
            b'[' => self.array(&ptr, depth)?,
            b'"' => {
                self.string()?;
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        self.out.values.insert(ptr, (start, self.i));
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    return serde_json::from_str::<String>(raw).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn object(&mut self, ptr: &str, depth: usize) -> Option<()> {
        self.i += 1;
        let mut seen = HashSet::new();
        self.ws();
        if self.peek()? == b'}' {
            self.out.object_ends.insert(ptr.to_owned(), self.i);
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            let child = format!("{ptr}/{}", escape_token(&key));
            if !seen.insert(key) {
                self.out.duplicates.push(child.clone());
            }
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            self.value(child, depth + 1)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.out.object_ends.insert(ptr.to_owned(), self.i);
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, ptr: &str, depth: usize) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        let mut idx = 0usize;
        loop {
            self.ws();
            self.value(format!("{ptr}/{idx}"), depth + 1)?;
            idx += 1;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_with_pointer() {
        let s = scan(r#"{"a": 1, "b": {"c": 2, "c": 3}, "a/x": [1, {"d":1,"d":2}]}"#).unwrap();
        assert_eq!(
            s.duplicates,
            vec!["/b/c".to_owned(), "/a~1x/1/d".to_owned()]
        );
    }

    #[test]
    fn records_value_spans() {
        let text = r#"{ "files": [ {"path": "a", "size": 12 } ] }"#;
        let s = scan(text).unwrap();
        let (a, b) = s.values["/files/0/size"];
        assert_eq!(&text[a..b], "12");
        let (a, b) = s.values["/files/0/path"];
        assert_eq!(&text[a..b], "\"a\"");
        assert_eq!(
            &text[s.object_ends["/files/0"]..=s.object_ends["/files/0"]],
            "}"
        );
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let s = scan(r#"{"\u0061": 1, "a": 2}"#).unwrap();
        assert_eq!(s.duplicates, vec!["/a".to_owned()]);
    }
}
