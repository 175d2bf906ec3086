//! The starter flow `trustguide new` writes: a small, working flow whose comments teach the
//! format, so an author's first `check` and `test` pass before they change anything.

/// The file name of the JSON Schema written beside a new flow, which its first line points
/// editors to (so completion works without any network access).
pub const SCHEMA_FILE: &str = "trustguide-flow.schema.json";

/// The text of a new flow with id `id`.
pub fn starter_flow(id: &str) -> String {
    STARTER
        .replace("{ID}", id)
        .replace("{TITLE}", &title_of(id))
        .replace("{SCHEMA}", SCHEMA_FILE)
}

/// `weekly-reflection` -> `Weekly reflection`.
fn title_of(id: &str) -> String {
    let words = id.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const STARTER: &str = r#"# yaml-language-server: $schema=./{SCHEMA}
#
# {TITLE}: a trustguide flow.
#
# A flow is a list of steps. Each step can show text (`say`), ask a question (`ask`), and
# decide where to go next (`next`). Without `next`, a step goes on to the one below it.
# The full guide is docs/flow-format.md; `trustguide schema` prints the format for editors.
#
#   trustguide check {ID}.yaml   finds mistakes, with the line and a hint
#   trustguide test {ID}.yaml    plays the `tests:` at the bottom
#   trustguide run {ID}.yaml     runs it for real
#
# Every typed answer is screened for safety by trustguide itself: if an answer suggests
# someone may be at risk, the flow pauses and shows where to find help. A flow cannot
# switch that off.

flow: {ID}                      # the id: lowercase letters, digits, `-` and `_`
title: {TITLE}
summary: A short check-in on how this week felt, and one small thing to try next.
minutes: 10                     # about how long it takes, shown in `trustguide list`
tags: [custom]
participants: [partner_a, partner_b]  # roles; names are asked at the start (or --as NAME)
vars: { tries: 0 }              # variables with a starting value

steps:
  - id: welcome                 # ids are snake_case and unique
    say: |
      Welcome, {{ partner_a }} and {{ partner_b }}.
      Take a breath together before you begin. There are no wrong answers here.

  - id: closeness               # an answer is stored under the step's id
    ask: scale                  # text, choice, multi, confirm, scale, number, date, time, list
    who: both                   # each of you answers in turn: closeness.partner_a, closeness.partner_b
    min: 0
    max: 10
    labels: { 0: far apart, 10: very close }
    prompt: How close did you feel to each other this week?

  - id: moment
    ask: text
    who: partner_a
    optional: true              # an empty answer is allowed (its value is `none`)
    # In quotes because it starts with `{`: unquoted, YAML would read `{{ ... }}` as a map.
    # Quote any text that starts with `{`, `[`, `*`, `@` or `'`, or that has `: ` or ` #`
    # in it (`trustguide explain E0103` says more).
    prompt: "{{ partner_a }}, describe one moment this week when you felt close."

  - id: next_step
    ask: choice
    prompt: What would you like to try this week?
    options:
      - A ten-minute walk together
      - A phone-free dinner
      - label: We need more time to talk this through
        value: more_time
        goto: more_time         # an option can jump to a step
    set: { tries: "tries + 1" }   # expressions use minijinja syntax

  - id: plan
    say: "Good. Put \"{{ next_step }}\" in your calendars, and come back to this next week."
    next: wrap_up               # jump over the step below

  - id: more_time
    say: |
      That is a fine answer. Set a time to talk when neither of you is rushed.
      If talking keeps turning into fighting, a couples therapist can help you both.

  - id: wrap_up
    end: completed
    say: |
      Thank you both. You rated this week {{ closeness.partner_a }} and {{ closeness.partner_b }}.
    record:                     # metrics that `trustguide progress` charts over the weeks
      closeness: closeness      # a `who: both` answer, {partner_a: 6, partner_b: 7}: one line per partner

tests:                          # scripted playthroughs: `trustguide test {ID}.yaml`
  - name: they pick a walk
    answers:
      closeness: { partner_a: 6, partner_b: 7 }
      moment: Cooking dinner on Sunday
      next_step: A ten-minute walk together
    expect: { outcome: completed, ends_at: wrap_up, vars: { tries: 1 } }
  - name: they want more time
    answers:
      closeness: { partner_a: 3, partner_b: 4 }
      moment: ""
      next_step: more_time
    expect: { outcome: completed, ends_at: wrap_up }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_as_words() {
        assert_eq!(title_of("weekly-reflection"), "Weekly reflection");
        assert_eq!(title_of("a"), "A");
    }
}
