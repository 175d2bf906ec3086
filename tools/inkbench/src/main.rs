//! The trustguide engine benchmark's loop, written in ink and run by blade-ink's runtime:
//! 16,667 rounds of say, choice, say, choice, say, choice (100,002 steps shown), each text
//! templated, a variable set at every step, the last choice looping back.
use std::time::Instant;

const STORY: &str = r#"
VAR n = 0
VAR total = 0
VAR a = "Sam"
VAR b = "Alex"
-> intro
=== intro ===
Round {n}, part 1: {a} and {b}.
~ total = total + 1
Pick 1 of round {n}, {a}?
+ [left]
+ [right]
- ~ total = total + 1
Round {n}, part 2: {a} and {b}.
~ total = total + 2
Pick 2 of round {n}, {a}?
+ [left]
+ [right]
- ~ total = total + 1
Round {n}, part 3: {a} and {b}.
~ total = total + 3
Pick 3 of round {n}, {a}?
+ [again]
  ~ n = n + 1
  -> intro
+ [stop] -> done
=== done ===
Done after {n} rounds.
-> END
"#;

fn main() {
    let json = bladeink_compiler::Compiler::new().compile(STORY).expect("compiles");
    let rounds: u64 = std::env::args().nth(1).map_or(16_667, |a| a.parse().expect("a number"));
    let start = Instant::now();
    let mut story = bladeink::story::Story::new(&json).expect("loads");
    let (mut lines, mut choices_made, mut out_bytes) = (0u64, 0u64, 0usize);
    loop {
        while story.can_continue() {
            let line = story.cont().expect("continues");
            out_bytes += line.len();
            lines += 1;
        }
        let choices = story.get_current_choices();
        if choices.is_empty() {
            break;
        }
        let pick = if choices[0].text == "again" {
            let n = choices_made / 3 + 1;
            if n < rounds { 0 } else { 1 }
        } else {
            0
        };
        story.choose_choice_index(pick).expect("chooses");
        choices_made += 1;
    }
    let elapsed = start.elapsed();
    println!(
        "ink (bladeink 1.2.6): {lines} lines, {choices_made} choices, {out_bytes} bytes of text in {:.1} ms",
        elapsed.as_secs_f64() * 1000.0
    );
}
