//! The template environment: minijinja set up the way flows need it.
//!
//! Strict undefined (a misspelt variable is an error, never an empty string or a silent false),
//! no HTML escaping (this is a terminal), includes only from the [`ContentLibrary`], and fuel so
//! a template that loops forever stops with an error instead of hanging a session.

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::content::ContentLibrary;

/// Instructions one template render may run. A long card with loops uses a few thousand.
pub const TEMPLATE_FUEL: u64 = 200_000;

/// Builds the environment every flow's templates and expressions are compiled in.
pub fn environment(content: ContentLibrary) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // `{% if %}` on a line of its own leaves no blank line behind.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_fuel(Some(TEMPLATE_FUEL));
    // People read these texts: a yes/no answer shows as "yes"/"no", not "True"/"False".
    env.set_formatter(|out, state, value| {
        if value.kind() == minijinja::value::ValueKind::Bool {
            out.write_str(if value.is_true() { "yes" } else { "no" })?;
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    // `{{ review_date | day }}`: a date answer in words, "Wednesday 9 December". Anything
    // that is not a `YYYY-MM-DD` date is left as it is.
    env.add_filter("day", |value: Value| -> String {
        value
            .as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| d.format("%A %-d %B").to_string())
            .unwrap_or_else(|| value.to_string())
    });
    env.set_recursion_limit(64);
    env.set_loader(move |name| {
        content.get(name).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
        })
    });
    env
}

/// The environment every flow's expressions (`set`, `when`, `record`, `schedule:`, a step's
/// `safety:`) are compiled in: one per process, with the templates' settings and no content
/// library (an expression cannot include a file). Because it lives for the whole process, a
/// compiled expression can be kept in the checked [`crate::flow::Flow`]: it is compiled once,
/// when the flow loads, and the engine evaluates that same compiled form.
pub fn expressions() -> &'static Environment<'static> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| environment(ContentLibrary::default()))
}

/// A piece of a simple template: text, or `{{ name }}` / `{{ name.field }}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Var(Vec<String>),
}

/// Splits a template that is only text and plain variable references into parts, so the
/// engine can fill it in without starting the template machine (most flow text is like this,
/// and it is the hot path of long scripted runs). Anything else, `None`: minijinja renders it.
pub fn simple_parts(source: &str) -> Option<Vec<Part>> {
    if source.contains("{%") || source.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        let path: Vec<String> = after[..end].trim().split('.').map(str::to_owned).collect();
        let ident = |s: &String| {
            let mut chars = s.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !path.iter().all(ident) {
            return None;
        }
        parts.push(Part::Var(path));
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return None;
    }
    if !rest.is_empty() {
        // As minijinja does by default, a single trailing newline is not part of the output.
        let text = rest.strip_suffix('\n').unwrap_or(rest);
        parts.push(Part::Text(text.to_owned()));
    }
    Some(parts)
}

/// Writes a value the way templates show it (see the formatter in [`environment`]).
pub fn format_value(value: &Value, out: &mut String) {
    use std::fmt::Write;
    if value.kind() == ValueKind::Bool {
        out.push_str(if value.is_true() { "yes" } else { "no" });
    } else if let Some(s) = value.as_str() {
        out.push_str(s);
    } else if let Some(n) = value.is_integer().then(|| value.as_i64()).flatten() {
        out.push_str(itoa::Buffer::new().format(n));
    } else {
        let _ = write!(out, "{value}");
    }
}

/// Fills in simple parts from `lookup`. `None` if a variable is undefined: the caller then
/// renders with minijinja, which reports the error in its usual words.
pub fn fill(parts: &[Part], lookup: impl Fn(&str) -> Option<Value>) -> Option<String> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Var(path) => {
                let mut value = lookup(&path[0])?;
                for field in &path[1..] {
                    value = value.get_attr(field).ok()?;
                    if value.is_undefined() {
                        return None;
                    }
                }
                format_value(&value, &mut out);
            }
        }
    }
    Some(out)
}

/// The filters templates and expressions can use (`{{ name | upper }}`): minijinja's own, and
/// trustguide's `day` (a date answer in words). `check` reports any other name, which
/// minijinja would only find when the text is shown.
pub const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "day",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
    "zip",
];

/// The tests templates and expressions can use (`x is number`): minijinja's own.
pub const TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn simple_templates_render_exactly_as_minijinja_does() {
        let env = environment(ContentLibrary::default());
        let ctx = context! {
            name => "Sam", n => 3, heard => true, x => 2.5, nothing => (),
            both => context! { speaker => 7 }, items => vec!["a", "b"],
        };
        for source in [
            "Hello {{ name }}!",
            "{{n}} rounds, heard: {{ heard }}, {{ x }} {{ nothing }}\n",
            "{{ both.speaker }}/{{ items }} and text }",
            "no variables at all",
        ] {
            let parts = simple_parts(source).unwrap_or_else(|| panic!("{source} is simple"));
            let fast = fill(&parts, |k| {
                ctx.get_attr(k).ok().filter(|v| !v.is_undefined())
            });
            let slow = env.render_str(source, ctx.clone()).expect("renders");
            assert_eq!(fast.as_deref(), Some(slow.as_str()), "{source}");
        }
        assert_eq!(
            fill(&simple_parts("{{ missing }}").expect("simple"), |_| None),
            None
        );
        for complex in [
            "{{ a|upper }}",
            "{% if a %}x{% endif %}",
            "{{ a + 1 }}",
            "{{- a }}",
            "{{ a",
        ] {
            assert_eq!(simple_parts(complex), None, "{complex}");
        }
    }

    #[test]
    fn undefined_is_an_error_not_empty() {
        let env = environment(ContentLibrary::default());
        let err = env.render_str("Hello {{ nmae }}", context! { name => "Sam" });
        assert!(err.is_err());
        let ok = env.render_str("Hello {{ name }}", context! { name => "Sam" });
        assert_eq!(ok.ok().as_deref(), Some("Hello Sam"));
    }

    #[test]
    fn endless_templates_run_out_of_fuel() {
        let env = environment(ContentLibrary::default());
        let err = env
            .render_str(
                "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
                (),
            )
            .expect_err("must stop");
        assert_eq!(err.kind(), minijinja::ErrorKind::OutOfFuel);
    }

    #[test]
    fn a_date_in_words() {
        let env = environment(ContentLibrary::default());
        let day = |v: &str| {
            env.render_str("{{ v | day }}", minijinja::context! { v })
                .expect("renders")
        };
        assert_eq!(day("2026-12-09"), "Wednesday 9 December");
        assert_eq!(day("soon"), "soon");
    }

    #[test]
    fn includes_come_only_from_the_content_library() {
        let env = environment(ContentLibrary::default());
        assert!(env.render_str("{% include '../Cargo.toml' %}", ()).is_err());
        assert!(env.render_str("{% include '/etc/passwd' %}", ()).is_err());
        let card = env.render_str("{% include 'cards/deep-listening.md' %}", ());
        assert!(card.is_ok_and(|c| !c.is_empty()));
    }

    #[test]
    fn the_filter_and_test_lists_name_what_minijinja_has() {
        let env = environment(crate::content::ContentLibrary::default());
        for (list, kind) in [(FILTERS, "filter"), (TESTS, "test")] {
            for name in list.iter().chain(["lenght", "numbr"].iter()) {
                let source = format!("{{% if '{name}' is {kind} %}}1{{% else %}}0{{% endif %}}");
                let exists = env.render_str(&source, ()).expect("renders");
                let listed = list.contains(name);
                assert_eq!(
                    exists == "1",
                    listed,
                    "{kind} `{name}`: {source} gave {exists}"
                );
            }
        }
    }
}
