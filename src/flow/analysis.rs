//! What `check` finds beyond the types: steps nothing leads to, loops with no way out, and
//! variables used where some way to the step has not given them a value.
//!
//! These look at the flow as a graph of steps, with every jump possible: a `when` is not
//! evaluated, so a branch that can never be taken in practice still counts as a way out. That
//! keeps the checks sound for what they report (a step reported unreachable really is, a loop
//! reported endless really has no exit) at the price of missing a few cases only a run shows.
//!
//! The same successor lists drive the "step 4 of ~12" estimate (`load::min_remaining`) and
//! `trustguide graph`, so the three never disagree about where a step can go.

use super::model::{Ask, AskKind, Next, Step, Target};

/// Where one step can go next: `Some(j)` a step, `None` the end of the flow.
pub fn successors(steps: &[Step]) -> Vec<Vec<Option<usize>>> {
    let n = steps.len();
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut out: Vec<Option<usize>> = Vec::new();
            let to = |t: Target| match t {
                Target::Step(j) => Some(j),
                Target::End => None,
            };
            let below = (i + 1 < n).then_some(i + 1);
            if s.end.is_some() {
                out.push(None);
                return out;
            }
            match &s.next {
                Next::FallThrough => out.push(below),
                Next::Goto(t) => out.push(to(*t)),
                Next::Branches(bs) => {
                    out.extend(bs.iter().map(|b| to(b.goto)));
                    if bs.iter().all(|b| b.when.is_some()) {
                        out.push(below);
                    }
                }
            }
            if let Some(Ask {
                kind: AskKind::Choice { options },
                ..
            }) = &s.ask
            {
                out.extend(options.iter().filter_map(|o| o.goto).map(to));
            }
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect()
}

/// Which steps a run can get to from the first one.
pub fn reachable(succ: &[Vec<Option<usize>>]) -> Vec<bool> {
    let mut seen = vec![false; succ.len()];
    let mut stack = Vec::new();
    if !succ.is_empty() {
        seen[0] = true;
        stack.push(0);
    }
    while let Some(i) = stack.pop() {
        for &j in succ[i].iter().flatten() {
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    seen
}

/// Which steps have some way to the end of the flow.
pub fn can_end(succ: &[Vec<Option<usize>>]) -> Vec<bool> {
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); succ.len()];
    let mut done = vec![false; succ.len()];
    let mut stack = Vec::new();
    for (i, next) in succ.iter().enumerate() {
        for j in next {
            match j {
                Some(j) => preds[*j].push(i),
                None => {
                    if !done[i] {
                        done[i] = true;
                        stack.push(i);
                    }
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        for &p in &preds[i] {
            if !done[p] {
                done[p] = true;
                stack.push(p);
            }
        }
    }
    done
}

/// The first step of each part of the flow nothing leads to (a step reached only from another
/// unreachable step is not reported again).
pub fn unreachable_starts(succ: &[Vec<Option<usize>>], reachable: &[bool]) -> Vec<usize> {
    let mut has_unreachable_pred = vec![false; succ.len()];
    for (i, next) in succ.iter().enumerate() {
        if !reachable[i] {
            for &j in next.iter().flatten() {
                if j != i {
                    has_unreachable_pred[j] = true;
                }
            }
        }
    }
    let mut starts: Vec<usize> = (0..succ.len())
        .filter(|&i| !reachable[i] && !has_unreachable_pred[i])
        .collect();
    // Unreachable steps that only lead to each other (a loop nothing enters): report the
    // first of each such group.
    let mut covered = vec![false; succ.len()];
    let cover = |from: usize, covered: &mut Vec<bool>| {
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if !covered[i] {
                covered[i] = true;
                stack.extend(succ[i].iter().flatten().copied());
            }
        }
    };
    for &s in &starts {
        cover(s, &mut covered);
    }
    for i in 0..succ.len() {
        if !reachable[i] && !covered[i] {
            starts.push(i);
            cover(i, &mut covered);
        }
    }
    starts.sort_unstable();
    starts
}

/// The loops a run can enter but never leave: groups of steps that lead only to each other
/// and never to the end. Each is given as its steps, in file order.
pub fn endless_loops(
    succ: &[Vec<Option<usize>>],
    reachable: &[bool],
    can_end: &[bool],
) -> Vec<Vec<usize>> {
    let trapped = |i: usize| reachable[i] && !can_end[i];
    let mut loops: Vec<Vec<usize>> = strongly_connected(succ, &trapped)
        .into_iter()
        .filter(|group| {
            // A single step is a loop only if it jumps to itself.
            group.len() > 1 || succ[group[0]].contains(&Some(group[0]))
        })
        .collect();
    for g in &mut loops {
        g.sort_unstable();
    }
    loops.sort();
    loops
}

/// The strongly connected groups of the steps `keep` selects (Tarjan's algorithm, without
/// recursion, so a 10,000-step flow cannot overflow the stack).
fn strongly_connected(
    succ: &[Vec<Option<usize>>],
    keep: &dyn Fn(usize) -> bool,
) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = succ.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut groups = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if !keep(root) || index[root] != UNSEEN {
            continue;
        }
        // (step, how many of its successors are done)
        let mut work = vec![(root, 0usize)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            let targets = &succ[v];
            if *next < targets.len() {
                let t = targets[*next];
                *next += 1;
                let Some(w) = t.filter(|&w| keep(w)) else {
                    continue;
                };
                if index[w] == UNSEEN {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                groups.push(group);
            }
        }
    }
    groups
}

/// For each step, which tracked variables every way to it has given a value.
///
/// A variable given by one step (an answer: by far the usual case) has a value on entry to a
/// step exactly when its giving step *dominates* that step: every way from the first step
/// passes it. Dominators come from petgraph and are numbered once, so each question is two
/// comparisons. A variable given by several steps (a `set` in two places) is followed on its
/// own: the steps a run can reach without passing any of its givers are the ones where it
/// may have no value.
pub struct Defined {
    how: Vec<Given>,
    /// Each step's place in a walk of the dominator tree (entered, left); `None` unreachable.
    walk: Vec<Option<(u32, u32)>>,
}

enum Given {
    /// No reachable step gives it a value.
    Never,
    /// One step gives it a value.
    By(usize),
    /// Several steps do; these steps can be reached without passing any of them.
    Unless(Vec<bool>),
}

impl Defined {
    /// Every way to step `step` has given variable `var` a value before the step shows
    /// anything.
    pub fn on_entry(&self, step: usize, var: usize) -> bool {
        match &self.how[var] {
            Given::Never => false,
            Given::By(g) => *g != step && self.dominates(*g, step),
            Given::Unless(open) => !open[step],
        }
    }

    fn dominates(&self, a: usize, b: usize) -> bool {
        match (self.walk[a], self.walk[b]) {
            (Some((a_in, a_out)), Some((b_in, b_out))) => a_in <= b_in && b_out <= a_out,
            _ => false,
        }
    }
}

/// Works out [`Defined`] for `tracked` variables. `gives[i]` are the variables step `i` gives
/// a value (its answer, its `set`, a called flow's result), as indexes into the tracked list.
pub fn defined_on_entry(
    succ: &[Vec<Option<usize>>],
    reachable: &[bool],
    tracked: usize,
    gives: &[Vec<usize>],
) -> Defined {
    let n = succ.len();
    let mut givers: Vec<Vec<usize>> = vec![Vec::new(); tracked];
    for (i, g) in gives.iter().enumerate() {
        if reachable[i] {
            for &v in g {
                givers[v].push(i);
            }
        }
    }
    let walk = if n == 0 {
        Vec::new()
    } else {
        dominator_walk(succ)
    };
    let how = givers
        .iter()
        .map(|g| match g.as_slice() {
            [] => Given::Never,
            [one] => Given::By(*one),
            several => Given::Unless(reach_avoiding(succ, several)),
        })
        .collect();
    Defined { how, walk }
}

/// The dominator tree of the steps reachable from the first, as the (entered, left) counts of
/// a depth-first walk: `a` dominates `b` when `b`'s interval lies inside `a`'s.
fn dominator_walk(succ: &[Vec<Option<usize>>]) -> Vec<Option<(u32, u32)>> {
    use petgraph::graph::{DiGraph, NodeIndex};
    let n = succ.len();
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(n, n * 2);
    for _ in 0..n {
        graph.add_node(());
    }
    for (i, next) in succ.iter().enumerate() {
        for &j in next.iter().flatten() {
            graph.add_edge(NodeIndex::new(i), NodeIndex::new(j), ());
        }
    }
    let doms = petgraph::algo::dominators::simple_fast(&graph, NodeIndex::new(0));
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 1..n {
        if let Some(d) = doms.immediate_dominator(NodeIndex::new(i)) {
            children[d.index()].push(i);
        }
    }
    let mut walk = vec![None; n];
    let mut clock = 0u32;
    // (step, whether its subtree is done)
    let mut stack = vec![(0usize, false)];
    let mut entered = vec![0u32; n];
    while let Some((i, done)) = stack.pop() {
        if done {
            walk[i] = Some((entered[i], clock));
            clock += 1;
            continue;
        }
        entered[i] = clock;
        clock += 1;
        stack.push((i, true));
        stack.extend(children[i].iter().map(|&c| (c, false)));
    }
    walk
}

/// The steps a run can reach from the first without passing any step of `avoid` (a step of
/// `avoid` itself can be reached, but the run does not go on from it).
fn reach_avoiding(succ: &[Vec<Option<usize>>], avoid: &[usize]) -> Vec<bool> {
    let mut blocked = vec![false; succ.len()];
    for &a in avoid {
        blocked[a] = true;
    }
    let mut seen = vec![false; succ.len()];
    seen[0] = true;
    let mut stack = vec![0];
    while let Some(i) = stack.pop() {
        if blocked[i] {
            continue;
        }
        for &j in succ[i].iter().flatten() {
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain must-analysis `Defined` replaced: start from "everything" and narrow until
    /// nothing changes. Slow on big flows, but obviously right; the fast one must agree.
    fn defined_by_iteration(
        succ: &[Vec<Option<usize>>],
        reachable: &[bool],
        tracked: usize,
        gives: &[Vec<usize>],
    ) -> Vec<Vec<bool>> {
        let n = succ.len();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, next) in succ.iter().enumerate() {
            if reachable[i] {
                for &j in next.iter().flatten() {
                    preds[j].push(i);
                }
            }
        }
        let mut entry: Vec<Vec<bool>> = (0..n).map(|i| vec![i != 0; tracked]).collect();
        let mut changed = true;
        while changed {
            changed = false;
            for i in 1..n {
                if !reachable[i] || preds[i].is_empty() {
                    continue;
                }
                let now: Vec<bool> = (0..tracked)
                    .map(|v| {
                        preds[i]
                            .iter()
                            .all(|&p| entry[p][v] || gives[p].contains(&v))
                    })
                    .collect();
                if now != entry[i] {
                    entry[i] = now;
                    changed = true;
                }
            }
        }
        entry
    }

    /// A small deterministic random number source, so failures can be replayed.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n
        }
    }

    #[test]
    fn dominators_agree_with_the_plain_analysis_on_random_flows() {
        let mut rng = Lcg(7);
        let mut answers = [0usize; 2];
        for round in 0..400 {
            let n = 2 + rng.below(30);
            let tracked = 1 + rng.below(6);
            // Mostly falling through, with jumps forward and back and some ends.
            let succ: Vec<Vec<Option<usize>>> = (0..n)
                .map(|i| {
                    let mut out = Vec::new();
                    for _ in 0..1 + rng.below(3) {
                        out.push(match rng.below(6) {
                            0 => None,
                            1 | 2 => Some(rng.below(n)),
                            _ => (i + 1 < n).then_some(i + 1),
                        });
                    }
                    out.sort_unstable();
                    out.dedup();
                    out
                })
                .collect();
            let gives: Vec<Vec<usize>> = (0..n)
                .map(|_| (0..tracked).filter(|_| rng.below(5) == 0).collect())
                .collect();
            let reach = reachable(&succ);
            let fast = defined_on_entry(&succ, &reach, tracked, &gives);
            let slow = defined_by_iteration(&succ, &reach, tracked, &gives);
            for i in (0..n).filter(|&i| reach[i]) {
                for v in 0..tracked {
                    assert_eq!(
                        fast.on_entry(i, v),
                        slow[i][v],
                        "round {round}: step {i}, variable {v}\nsucc {succ:?}\ngives {gives:?}"
                    );
                    answers[usize::from(slow[i][v])] += 1;
                }
            }
        }
        // Both answers came up often, so the comparison meant something.
        assert!(answers[0] > 1000 && answers[1] > 1000, "{answers:?}");
    }
}
