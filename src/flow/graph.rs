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
    /// The step the way leaves, as an index into the flow's steps.
    pub from: usize,
    /// The step it enters; `None` for the end of the flow.
    pub to: Option<usize>,
    /// What takes it: an option's label, a branch's `when`, or `otherwise`.
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

/// How a step is drawn.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// A step that ends the flow.
    End,
    /// A step that calls another flow.
    Call,
    /// A question.
    Ask,
    /// Text only.
    Say,
}

fn shape(s: &Step) -> Shape {
    if s.end.is_some() {
        Shape::End
    } else if s.call.is_some() {
        Shape::Call
    } else if s.ask.is_some() {
        Shape::Ask
    } else {
        Shape::Say
    }
}

/// A graph language: how a node and an edge are written. [`draw`] walks the flow once and
/// hands every node and edge to it, so Mermaid and DOT cannot drift apart.
trait Notation {
    fn node(&mut self, i: usize, shape: Shape, text: &str, safety: bool);
    /// The node every way to the end of the flow goes to.
    fn finish(&mut self);
    fn edge(&mut self, from: usize, to: Option<usize>, label: Option<&str>);
    /// Everything after the last edge; the text.
    fn close(self) -> String;
}

/// The one walk over a flow's steps and ways.
fn draw(flow: &Flow, mut notation: impl Notation) -> String {
    for (i, s) in flow.steps.iter().enumerate() {
        notation.node(i, shape(s), &node_text(s), safety_stop(s));
    }
    notation.finish();
    for e in edges(flow) {
        notation.edge(e.from, e.to, e.label.as_deref());
    }
    notation.close()
}

fn target(to: Option<usize>) -> String {
    to.map(|j| format!("s{j}"))
        .unwrap_or_else(|| "finish".into())
}

struct Mermaid {
    out: String,
    /// Steps drawn as safety stops, marked with a class at the end.
    safety: Vec<usize>,
}

impl Notation for Mermaid {
    fn node(&mut self, i: usize, shape: Shape, text: &str, safety: bool) {
        let text = mermaid_text(text);
        let node = match shape {
            Shape::End => format!("s{i}([\"{text}\"])"),
            Shape::Call => format!("s{i}[[\"{text}\"]]"),
            Shape::Ask => format!("s{i}{{\"{text}\"}}"),
            Shape::Say => format!("s{i}[\"{text}\"]"),
        };
        self.out.push_str(&format!("    {node}\n"));
        if safety {
            self.safety.push(i);
        }
    }

    fn finish(&mut self) {
        self.out.push_str("    finish((end))\n");
    }

    fn edge(&mut self, from: usize, to: Option<usize>, label: Option<&str>) {
        let to = target(to);
        match label {
            Some(l) => self
                .out
                .push_str(&format!("    s{from} -->|\"{}\"| {to}\n", mermaid_text(l))),
            None => self.out.push_str(&format!("    s{from} --> {to}\n")),
        }
    }

    fn close(mut self) -> String {
        for i in &self.safety {
            self.out.push_str(&format!("    class s{i} safety\n"));
        }
        self.out
            .push_str("    classDef safety stroke:#b00,stroke-width:3px\n");
        self.out
    }
}

struct Dot {
    out: String,
}

impl Notation for Dot {
    fn node(&mut self, i: usize, shape: Shape, text: &str, safety: bool) {
        let shape = match shape {
            Shape::End => "oval",
            Shape::Call => "component",
            Shape::Ask => "diamond",
            Shape::Say => "box",
        };
        let extra = if safety {
            ", color=\"#bb0000\", penwidth=3"
        } else {
            ""
        };
        self.out.push_str(&format!(
            "    s{i} [label=\"{}\", shape={shape}{extra}];\n",
            dot_text(text)
        ));
    }

    fn finish(&mut self) {
        self.out
            .push_str("    finish [label=\"end\", shape=doublecircle];\n");
    }

    fn edge(&mut self, from: usize, to: Option<usize>, label: Option<&str>) {
        let to = target(to);
        match label {
            Some(l) => self.out.push_str(&format!(
                "    s{from} -> {to} [label=\"{}\"];\n",
                dot_text(l)
            )),
            None => self.out.push_str(&format!("    s{from} -> {to};\n")),
        }
    }

    fn close(mut self) -> String {
        self.out.push_str("}\n");
        self.out
    }
}

/// The flow as a Mermaid flowchart.
pub fn mermaid(flow: &Flow) -> String {
    let out = format!("%% {} ({})\nflowchart TD\n", flow.title, flow.id);
    draw(
        flow,
        Mermaid {
            out,
            safety: Vec::new(),
        },
    )
}

/// The flow as a Graphviz DOT digraph.
pub fn dot(flow: &Flow) -> String {
    let out = format!(
        "// {} ({})\ndigraph \"{}\" {{\n    rankdir=TB;\n    node [fontname=\"sans-serif\"];\n",
        flow.title,
        flow.id,
        dot_text(&flow.id)
    );
    draw(flow, Dot { out })
}
