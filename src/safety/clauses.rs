//! The parts of an answer the encoder judges: the whole answer, and the answer from the start
//! of each later clause on.
//!
//! Why suffixes and not clauses alone: an ordinary start must not dilute a risk ("work was
//! busy, picked up the kids. i want to die" is judged again from "i want to die"), but what
//! follows a clause often changes what it means ("my ex was violent but that was ten years
//! ago and i'm safe now"). A clause judged with everything after it keeps that meaning; a
//! clause judged alone would lose it. A clause starts after a sentence end (`.`, `!`, `?`,
//! `;`, a line break) and at the words "but", "and" and "so".
//!
//! A short answer is judged whole: the encoder reads every word of it at once, and a clause
//! cut from a short answer has lost the words around it that say what it means ("i cant
//! show my face" after "everyone at church knows"). Dilution takes length, and a long answer
//! does not even fit in what the encoder reads at once, so from [`MIN_WORDS`] words on the
//! answer is judged from each clause as well.
//!
//! This module only cuts text; it never decides anything.

/// An answer of fewer words is judged whole. Chosen on the validation sets: cutting shorter
/// answers found no risk the whole answer missed, and paused on fragments of ordinary ones.
pub const MIN_WORDS: usize = 20;

/// At most this many parts are judged. A longer answer is judged from each sentence start,
/// and, if it has more sentences than this, from evenly spaced ones; the phrase patterns
/// still read every word of it.
pub const MAX_PARTS: usize = 32;

/// The parts of `text` to judge, the whole answer first. Each part after the first starts
/// at a clause and runs to the end of the answer (the encoder reads as much of it as fits).
pub fn parts(text: &str) -> Vec<&str> {
    let text = text.trim();
    if text.split_whitespace().nth(MIN_WORDS - 1).is_none() {
        return vec![text];
    }
    let mut starts: Vec<Start> = Vec::new();
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
                push(&mut starts, j, true, bytes.len());
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
                    push(&mut starts, after, false, bytes.len());
                }
            }
            i = word_start.max(i + 1);
            continue;
        }
        i += 1;
    }

    let mut out = vec![text];
    let mut chosen: Vec<usize> = starts.iter().map(|s| s.at).collect();
    if chosen.len() + 1 > MAX_PARTS {
        chosen = starts.iter().filter(|s| s.sentence).map(|s| s.at).collect();
    }
    if chosen.len() + 1 > MAX_PARTS {
        let step = chosen.len() as f64 / (MAX_PARTS - 1) as f64;
        chosen = (0..MAX_PARTS - 1)
            .filter_map(|k| chosen.get((k as f64 * step) as usize).copied())
            .collect();
    }
    for at in chosen {
        // `at` always follows an ASCII byte, so it is a character boundary.
        if let Some(rest) = text.get(at..) {
            if rest.split_whitespace().nth(1).is_some() && !out.contains(&rest) {
                out.push(rest);
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Start {
    at: usize,
    sentence: bool,
}

fn push(starts: &mut Vec<Start>, at: usize, sentence: bool, len: usize) {
    if at >= len || at == 0 {
        return;
    }
    match starts.last_mut() {
        Some(last) if last.at == at => last.sentence |= sentence,
        _ => starts.push(Start { at, sentence }),
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

    #[test]
    fn an_ordinary_start_is_cut_away_from_a_later_clause() {
        let text = "Work was busy all day long. Picked up the kids from school and cooked pasta for tea, but i want to die";
        assert_eq!(
            parts(text),
            [
                text,
                "Picked up the kids from school and cooked pasta for tea, but i want to die",
                "cooked pasta for tea, but i want to die",
                "i want to die",
            ]
        );
    }

    #[test]
    fn a_short_answer_is_judged_whole() {
        assert_eq!(
            parts("everyone at church knows and i cant show my face"),
            ["everyone at church knows and i cant show my face"]
        );
    }

    #[test]
    fn what_follows_a_clause_stays_with_it() {
        let text = "my ex was violent with me for years but that was ten years ago and im safe now with someone kind";
        assert_eq!(
            parts(text),
            [
                text,
                "that was ten years ago and im safe now with someone kind",
                "im safe now with someone kind",
            ]
        );
    }

    #[test]
    fn words_that_only_start_like_a_conjunction_do_not_cut() {
        let text = "sandy took the bus to town, android phone in her bag, soon home, sorted the landlord, brandy for gran";
        assert_eq!(parts(text), [text]);
        // A part of one word is not judged on its own.
        let text = "we talked for an hour about the week and what comes next for us both, it was tiring and sad";
        assert!(!parts(text).contains(&"sad"), "{:?}", parts(text));
        assert_eq!(parts(""), [""]);
        assert_eq!(parts("   ...  "), ["..."]);
    }

    #[test]
    fn non_ascii_text_is_cut_on_character_boundaries() {
        let p = parts("café, naïve… but ça va. Über alles and ok then, we had a long day out in the old town and it was lovely really");
        assert!(p.len() >= 2, "{p:?}");
        for part in p {
            assert!(!part.is_empty());
        }
    }

    #[test]
    fn a_very_long_answer_is_judged_in_at_most_max_parts() {
        let long = "we went out and it was fine. ".repeat(200);
        let p = parts(&long);
        assert!(p.len() <= MAX_PARTS, "{}", p.len());
        assert!(p.len() > MAX_PARTS / 2, "{}", p.len());
        // Every part ends where the answer ends.
        for part in &p {
            assert!(long.trim().ends_with(part));
        }
    }
}
