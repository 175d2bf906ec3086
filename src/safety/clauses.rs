//! Where the later clauses of an answer start, so that the encoder can judge the answer from
//! each of them on.
//!
//! Why: an ordinary start must not dilute a risk ("work was busy, picked up the kids. i want
//! to die" is judged again from "i want to die"), but what follows a clause often changes
//! what it means ("my ex was violent but that was ten years ago and i'm safe now"). So a
//! clause is judged together with everything after it. The encoder reads the answer once;
//! a clause's judgement is the mean of the token vectors from its first token to the end
//! (src/safety/encoder.rs), and each token has read the whole answer around it. A clause
//! starts after a sentence end (`.`, `!`, `?`, `;`, a line break) and at the words "but",
//! "and" and "so".
//!
//! A short answer is judged whole: dilution takes length, and a fragment of a short answer
//! has lost the words that say what it means ("i cant show my face" after "everyone at
//! church knows"). From [`MIN_WORDS`] words on, each later clause is judged as well.
//!
//! This module only finds positions in the text; it never decides anything.

/// An answer of fewer words is judged whole. Chosen on the validation sets.
pub const MIN_WORDS: usize = 20;

/// The byte offsets in `text` where a later clause starts, in order, each followed by at
/// least two words. Empty for an answer of fewer than [`MIN_WORDS`] words.
pub fn starts(text: &str) -> Vec<usize> {
    if text.split_whitespace().nth(MIN_WORDS - 1).is_none() {
        return Vec::new();
    }
    all_starts(text)
}

/// The byte offsets in `text` where a later clause starts, as [`starts`] finds them, in an
/// answer of any length: the vote of the nearest training lines (src/safety/vote.rs) reads
/// each span from these on alone, so a fragment of a short answer is read with nothing of
/// the ordinary start around it, and the whole answer votes as well.
pub fn all_starts(text: &str) -> Vec<usize> {
    let mut starts: Vec<usize> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b'.' | b'!' | b'?' | b';' | b'\n') {
            // The next word after the run of marks and spaces starts a sentence.
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || is_mark(bytes[j])) {
                j += 1;
            }
            if j > i + 1 || c == b'\n' {
                push(&mut starts, j, bytes.len());
            }
            i = j.max(i + 1);
            continue;
        }
        if c.is_ascii_whitespace() || c == b',' {
            let word_start = skip(bytes, i, |b| b.is_ascii_whitespace() || b == b',');
            for conj in ["but", "and", "so"] {
                let end = word_start + conj.len();
                if end < bytes.len()
                    && bytes[word_start..end].eq_ignore_ascii_case(conj.as_bytes())
                    && !bytes[end].is_ascii_alphanumeric()
                    && bytes[end] != b'\''
                {
                    let after = skip(bytes, end, |b| b.is_ascii_whitespace() || b == b',');
                    push(&mut starts, after, bytes.len());
                }
            }
            i = word_start.max(i + 1);
            continue;
        }
        i += 1;
    }
    // `at` always follows an ASCII byte, so it is a character boundary.
    starts.retain(|&at| {
        text.get(at..)
            .is_some_and(|rest| rest.split_whitespace().nth(1).is_some())
    });
    starts
}

fn push(starts: &mut Vec<usize>, at: usize, len: usize) {
    if at < len && at != 0 && starts.last() != Some(&at) {
        starts.push(at);
    }
}

fn skip(bytes: &[u8], mut i: usize, what: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && what(bytes[i]) {
        i += 1;
    }
    i
}

fn is_mark(b: u8) -> bool {
    matches!(b, b'.' | b'!' | b'?' | b';' | b'"' | b')' | b'\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text from each clause start on.
    fn parts(text: &str) -> Vec<&str> {
        starts(text).into_iter().map(|at| &text[at..]).collect()
    }

    #[test]
    fn an_ordinary_start_is_cut_away_from_a_later_clause() {
        let text = "Work was busy all day long. Picked up the kids from school and cooked pasta for tea, but i want to die";
        assert_eq!(
            parts(text),
            [
                "Picked up the kids from school and cooked pasta for tea, but i want to die",
                "cooked pasta for tea, but i want to die",
                "i want to die",
            ]
        );
    }

    #[test]
    fn a_short_answer_is_judged_whole() {
        assert!(starts("everyone at church knows and i cant show my face").is_empty());
    }

    #[test]
    fn what_follows_a_clause_stays_with_it() {
        let text = "my ex was violent with me for years but that was ten years ago and im safe now with someone kind";
        assert_eq!(
            parts(text),
            [
                "that was ten years ago and im safe now with someone kind",
                "im safe now with someone kind",
            ]
        );
    }

    #[test]
    fn words_that_only_start_like_a_conjunction_do_not_cut() {
        let text = "sandy took the bus to town, android phone in her bag, soon home, sorted the landlord, brandy for gran";
        assert!(starts(text).is_empty(), "{:?}", parts(text));
        // A clause of one word is not judged on its own.
        let text = "we talked for an hour about the week and what comes next for us both, it was tiring and sad";
        assert!(!parts(text).contains(&"sad"), "{:?}", parts(text));
        assert!(starts("").is_empty());
        assert!(starts("   ...  ").is_empty());
    }

    #[test]
    fn non_ascii_text_is_cut_on_character_boundaries() {
        let text = "café, naïve… but ça va. Über alles and ok then, we had a long day out in the old town and it was lovely really";
        let p = parts(text);
        assert!(p.len() >= 2, "{p:?}");
        for at in starts(text) {
            assert!(text.is_char_boundary(at));
        }
    }

    #[test]
    fn a_long_answer_has_a_start_at_every_sentence() {
        let long = "we went out and it was fine. ".repeat(200);
        let s = starts(&long);
        // Each sentence, and the "and" inside it.
        assert_eq!(s.len(), 399, "{}", s.len());
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }
}
