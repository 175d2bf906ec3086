//! Text from answers made safe to print to a terminal or a Markdown file.
//!
//! An answer is whatever was typed or pasted, and a partner who wants to tamper can type
//! terminal escape sequences: one that clears the screen, moves the cursor, rewrites what is
//! above it or retitles the window when someone later runs `show`. So every place that prints
//! an answer (or a text built from one) shows control characters as visible symbols instead:
//! the C0 controls and DEL as their Unicode control pictures (`ESC` becomes `␛`), the C1
//! controls and the marks that reverse the direction of text (which can hide what a line
//! says) as `\u{…}`. Newline and tab are kept. The stored answer is left as it was typed.

use std::borrow::Cow;

/// `text` with every control character except newline and tab made visible.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
        } else if c == '\u{7f}' {
            out.push('\u{2421}');
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // Bidirectional embeddings, overrides and isolates.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_show_as_symbols_and_ordinary_text_is_untouched() {
        assert!(matches!(
            printable("we talked, it was ok\n\tthen tea"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("hi\u{1b}[2J\u{1b}]0;owned\u{7}"),
            "hi␛[2J␛]0;owned␇"
        );
        assert_eq!(printable("a\rb\u{7f}\u{9b}c"), "a␍b␡\\u{9b}c");
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(printable("ça va — ☺"), "ça va — ☺");
    }
}
