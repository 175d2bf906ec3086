//! The template environment: minijinja set up the way flows need it.
//!
//! Strict undefined (a misspelt variable is an error, never an empty string or a silent false),
//! no HTML escaping (this is a terminal), includes only from the [`ContentLibrary`], and fuel so
//! a template that loops forever stops with an error instead of hanging a session.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

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
    env.set_recursion_limit(64);
    env.set_loader(move |name| {
        content.get(name).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
        })
    });
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

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
    fn includes_come_only_from_the_content_library() {
        let env = environment(ContentLibrary::default());
        assert!(env.render_str("{% include '../Cargo.toml' %}", ()).is_err());
        assert!(env.render_str("{% include '/etc/passwd' %}", ()).is_err());
        let card = env.render_str("{% include 'cards/deep-listening.md' %}", ());
        assert!(card.is_ok_and(|c| !c.is_empty()));
    }
}
