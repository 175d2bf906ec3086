//! A flow as a diagram (`trustguide graph`): Mermaid for Markdown and editors, DOT for
//! Graphviz.
//!
//! One node per step, one edge per way a run can go: the step below, a `goto`, each `next`
//! branch (labelled with its `when`), each option that jumps (labelled with the option).
//! Steps that can stop a session for safety are marked, and so are endings and calls. The
//! edges are `analysis::successors`' with their labels, so the picture and `check` agree.

use super::model::{Ask, AskKind, Flow, Next, Outcome, Step, Target};

/// One edge: from step, to step (`None`: the end of the flow), label.
pub struct Edge {
    pub from: usize,
    pub to: Option<usize>,
    pub label: Option<String>,
}

/// Every way a run can go from one step to the next.
pub fn edges(flow: &Flow) -> Vec<Edge> {
    let n = flow.steps.len();
    let mut out = Vec::new();
    for (i, s) in flow.steps.iter().enumerate() {
        let to = |t: Target| match t {
            Target::Step(j) => Some(j),
            Target::End => None,
        };
        let below = (i + 1 < n).then_some(i + 1);
        if s.end.is_some() {
            out.push(Edge {
                from: i,
                to: None,
                label: None,
            });
            continue;
        }
        if let Some(Ask {
            kind: AskKind::Choice { options },
            ..
        }) = &s.ask
        {
            for o in options {
                if let Some(t) = o.goto {
                    out.push(Edge {
                        from: i,
                        to: to(t),
                        label: Some(o.label.clone()),
                    });
                }
            }
        }
        match &s.next {
            Next::FallThrough => out.push(Edge {
                from: i,
                to: below,
                label: None,
            }),
            Next::Goto(t) => out.push(Edge {
                from: i,
                to: to(*t),
                label: None,
            }),
            Next::Branches(bs) => {
                for b in bs {
                    out.push(Edge {
                        from: i,
                        to: to(b.goto),
                        label: Some(match &b.when {
                            Some(w) => w.source.clone(),
                            None => "otherwise".to_owned(),
                        }),
                    });
                }
                if bs.iter().all(|b| b.when.is_some()) {
                    out.push(Edge {
                        from: i,
                        to: below,
                        label: Some("otherwise".to_owned()),
                    });
                }
            }
        }
    }
    out
}

/// Can this step stop the session for safety on its own (a `safety:` trigger, or an option
/// with `safety`)? Every typed answer is screened too, wherever it is.
fn safety_stop(s: &Step) -> bool {
    s.safety.is_some()
        || matches!(&s.ask, Some(Ask { kind: AskKind::Choice { options } | AskKind::Multi { options, .. }, .. }) if options.iter().any(|o| o.safety.is_some()))
}

/// The text inside a node: the step's label, what it asks, and its marks.
fn node_text(s: &Step) -> String {
    let mut text = s.label.clone();
    if let Some(ask) = &s.ask {
        text.push_str(&format!(" ({})", ask.kind.name()));
    }
    if let Some(c) = &s.call {
        text.push_str(&format!(" → call {c}"));
    }
    if let Some(outcome) = s.end {
        text.push_str(match outcome {
            Outcome::Stopped => " · ends: stopped",
            _ => " · ends",
        });
    }
    if safety_stop(s) {
        text.push_str(" · ⚠ safety stop");
    }
    text
}

fn mermaid_text(text: &str) -> String {
    // Mermaid reads `"` as the end of a label; `#quot;` is its escape.
    text.replace('"', "#quot;").replace('\n', " ")
}

fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ")
}

/// The flow as a Mermaid flowchart.
pub fn mermaid(flow: &Flow) -> String {
    let mut out = format!("%% {} ({})\nflowchart TD\n", flow.title, flow.id);
    for (i, s) in flow.steps.iter().enumerate() {
        let text = mermaid_text(&node_text(s));
        let shape = if s.end.is_some() {
            format!("s{i}([\"{text}\"])")
        } else if s.call.is_some() {
            format!("s{i}[[\"{text}\"]]")
        } else if s.ask.is_some() {
            format!("s{i}{{\"{text}\"}}")
        } else {
            format!("s{i}[\"{text}\"]")
        };
        out.push_str(&format!("    {shape}\n"));
    }
    out.push_str("    finish((end))\n");
    for e in edges(flow) {
        let to =
            e.to.map(|j| format!("s{j}"))
                .unwrap_or_else(|| "finish".into());
        match e.label {
            Some(l) => out.push_str(&format!(
                "    s{} -->|\"{}\"| {to}\n",
                e.from,
                mermaid_text(&l)
            )),
            None => out.push_str(&format!("    s{} --> {to}\n", e.from)),
        }
    }
    for (i, s) in flow.steps.iter().enumerate() {
        if safety_stop(s) {
            out.push_str(&format!("    class s{i} safety\n"));
        }
    }
    out.push_str("    classDef safety stroke:#b00,stroke-width:3px\n");
    out
}

/// The flow as a Graphviz DOT digraph.
pub fn dot(flow: &Flow) -> String {
    let mut out = format!(
        "// {} ({})\ndigraph \"{}\" {{\n    rankdir=TB;\n    node [fontname=\"sans-serif\"];\n",
        flow.title,
        flow.id,
        dot_text(&flow.id)
    );
    for (i, s) in flow.steps.iter().enumerate() {
        let shape = if s.end.is_some() {
            "oval"
        } else if s.call.is_some() {
            "component"
        } else if s.ask.is_some() {
            "diamond"
        } else {
            "box"
        };
        let extra = if safety_stop(s) {
            ", color=\"#bb0000\", penwidth=3"
        } else {
            ""
        };
        out.push_str(&format!(
            "    s{i} [label=\"{}\", shape={shape}{extra}];\n",
            dot_text(&node_text(s))
        ));
    }
    out.push_str("    finish [label=\"end\", shape=doublecircle];\n");
    for e in edges(flow) {
        let to =
            e.to.map(|j| format!("s{j}"))
                .unwrap_or_else(|| "finish".into());
        match e.label {
            Some(l) => out.push_str(&format!(
                "    s{} -> {to} [label=\"{}\"];\n",
                e.from,
                dot_text(&l)
            )),
            None => out.push_str(&format!("    s{} -> {to};\n", e.from)),
        }
    }
    out.push_str("}\n");
    out
}
