//! The trustguide engine benchmark's loop, written in ink and run by blade-ink's runtime:
//! 16,667 rounds of say, choice, say, choice, say, choice (100,002 steps shown), each text
//! templated, a variable set at every step, the last choice looping back.
//!
//! `cargo run --release -- compile [STEPS] [play]` instead times ink's compiler on the ink
//! version of the flow `trustguide check` is measured on (`big_flow()` in benches/engine.rs;
//! 10,000 steps unless STEPS is given; `play` then also plays the compiled story through once).
use std::fmt::Write as _;
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

/// The ink version of `big_flow()` in benches/engine.rs, step for step: `steps` steps (the
/// generated loop covers steps 0..steps-1, then the ending step `done`), each a knot
/// `step_<id>` so that any step can be jumped to. The knots are prefixed because ink does not
/// let a knot share its name with a VAR, and every asking step stores its answer in a VAR
/// named after its id (t1, c2, k3, again999), as trustguide does; `a` and `b` (the roles'
/// names) and `score` are VARs too. Step shapes, by `i % 5`:
/// - 0, and 4 when not a confirm: a templated line (`{a}`, `{score}`, `{t1}`, `{c2}`).
/// - 1 (text question, `who: a`): ink has no free-text input, so the prompt is followed by
///   one choice whose effect sets `t<i>` to a fixed string; `who` becomes a tag.
/// - 2 (choice): three choices setting `c<i>` to the option; the third diverts 3 steps ahead.
/// - 3 (scale 0-10): ink has no number input, so three choices (0, 5, 10) set `k<i>`; then
///   `~ score = score + k<i>` and `{ k<i> > 8 and score > 100: -> ... }`, as `set` and `next`.
/// - 4 when `i % 1000 == 999` (confirm): two choices setting `again<i>`; "yes" diverts back to
///   the block's first step.
/// - `done`: the closing line; `end: completed` and `record: { score: score }` become tags,
///   since ink has no outcome or records.
///
/// Each knot ends with an explicit divert to the next step: ink does not fall through.
fn big_story(steps: usize) -> String {
    assert!(steps >= 2, "at least 2 steps");
    let last = steps - 1; // the generated steps are 0..last, then `done`
    let id = |i: usize| -> String {
        if i >= last {
            return "done".to_owned();
        }
        match i % 5 {
            0 => format!("s{i}"),
            1 => format!("t{i}"),
            2 => format!("c{i}"),
            3 => format!("k{i}"),
            _ if i % 1000 == 999 => format!("again{i}"),
            _ => format!("s{i}"),
        }
    };
    let mut s = String::from("VAR a = \"Sam\"\nVAR b = \"Alex\"\nVAR score = 0\n");
    for i in 0..last {
        match i % 5 {
            1 | 2 => writeln!(s, "VAR {} = \"\"", id(i)).unwrap(),
            3 => writeln!(s, "VAR {} = 0", id(i)).unwrap(),
            4 if i % 1000 == 999 => writeln!(s, "VAR {} = false", id(i)).unwrap(),
            _ => {}
        }
    }
    s.push_str("-> step_s0\n");
    for i in 0..last {
        let (me, next) = (id(i), id(i + 1));
        writeln!(s, "=== step_{me} ===").unwrap();
        match i % 5 {
            0 => writeln!(s, "Part {i} for {{a}} and {{b}}, score {{score}}.").unwrap(),
            1 => write!(
                s,
                "What matters most to you, {{a}}? # who: a\n+ [(an answer)]\n  ~ {me} = \"an answer\"\n- "
            )
            .unwrap(),
            2 => write!(
                s,
                "Which one?\n+ [now]\n  ~ {me} = \"now\"\n+ [later]\n  ~ {me} = \"later\"\n+ [skip ahead]\n  ~ {me} = \"skip ahead\"\n  -> step_{}\n- ",
                id(i + 3)
            )
            .unwrap(),
            3 => {
                s.push_str("How strong?\n");
                for k in [0, 5, 10] {
                    writeln!(s, "+ [{k}]\n  ~ {me} = {k}").unwrap();
                }
                // A gather alone on its line: in `- ~ x = ...` the `~` line would be text.
                writeln!(s, "-\n~ score = score + {me}").unwrap();
                writeln!(s, "{{ {me} > 8 and score > 100: -> step_{} }}", id(i + 2)).unwrap();
            }
            _ if i % 1000 == 999 => write!(
                s,
                "Go over this part again?\n+ [yes]\n  ~ {me} = true\n  -> step_{}\n+ [no]\n  ~ {me} = false\n- ",
                id(i - 999)
            )
            .unwrap(),
            _ => writeln!(s, "You said {{{}}} and chose {{{}}}.", id(i - 3), id(i - 2)).unwrap(),
        }
        writeln!(s, "-> step_{next}").unwrap();
    }
    s.push_str("=== step_done ===\nFinished with {score}. # end: completed # record: score {score}\n-> END\n");
    s
}

/// `compile [STEPS] [play]`: times ink's compiler on `big_story(STEPS)`.
fn compile_mode(steps: usize, play: bool) {
    const RUNS: usize = 5;
    let story = big_story(steps);
    let json = bladeink_compiler::Compiler::new()
        .compile(&story)
        .unwrap_or_else(|e| panic!("the generated {steps}-step ink story does not compile: {e}"));
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = bladeink_compiler::Compiler::new().compile(&story);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(out.is_ok(), "compiles every time");
    }
    let runs: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "ink compile (bladeink-compiler 1.2.6), {steps} steps, {} bytes of ink ({} bytes of JSON): median {:.1} ms over {RUNS} runs [{} ms]",
        story.len(),
        json.len(),
        sorted[RUNS / 2],
        runs.join(", ")
    );
    // With `play`, a check that the JSON loads and plays to the end (10 on each scale, "no" at
    // each confirm). Optional: with 10,000 steps it takes far longer than the compile.
    if !play {
        return;
    }
    let start = Instant::now();
    let mut story = bladeink::story::Story::new(&json).expect("the compiled story loads");
    let (mut lines, mut last_line) = (0usize, String::new());
    loop {
        while story.can_continue() {
            last_line = story.cont().expect("continues");
            lines += 1;
        }
        let choices = story.get_current_choices();
        if choices.is_empty() {
            break;
        }
        let pick = choices
            .iter()
            .position(|c| c.text == "no" || c.text == "10")
            .unwrap_or(0);
        story.choose_choice_index(pick).expect("chooses");
    }
    println!(
        "played through in {:.1} s: {lines} lines, ending with {:?}",
        start.elapsed().as_secs_f64(),
        last_line.trim()
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("compile") {
        let steps = std::env::args()
            .nth(2)
            .map_or(10_000, |a| a.parse().expect("a number of steps"));
        compile_mode(steps, std::env::args().nth(3).as_deref() == Some("play"));
        return;
    }
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
