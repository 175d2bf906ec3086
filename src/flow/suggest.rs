//! "Did you mean ...?" for names a person mistyped: fields, step ids, roles, flows.

/// The candidate nearest to `name`, if it is near enough to be a likely typo.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| (strsim::damerau_levenshtein(&wanted, &c.to_lowercase()), c))
        .filter(|(distance, c)| {
            let longest = wanted.chars().count().max(c.chars().count());
            // One edit in a short name, up to a third of a long one.
            *distance > 0 && *distance <= (longest / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn finds_typos_but_not_strangers() {
        let fields = ["id", "say", "ask", "prompt", "who", "next"];
        assert_eq!(nearest("promt", fields), Some("prompt"));
        assert_eq!(nearest("nxet", fields), Some("next"));
        assert_eq!(nearest("banana", fields), None);
        assert_eq!(nearest("prompt", fields), None, "an exact name is no typo");
    }
}
