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

/// A set of variables, as bits.
#[derive(Clone, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize, full: bool) -> Bits {
        Bits(vec![if full { u64::MAX } else { 0 }; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn has(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
    fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
}

/// For each step, which tracked variables every way to it has given a value.
pub struct Defined(Vec<Bits>);

impl Defined {
    /// Every way to step `step` has given variable `var` a value before the step shows
    /// anything.
    pub fn on_entry(&self, step: usize, var: usize) -> bool {
        self.0[step].has(var)
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
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, next) in succ.iter().enumerate() {
        if reachable[i] {
            for &j in next.iter().flatten() {
                preds[j].push(i);
            }
        }
    }
    let gen: Vec<Bits> = gives
        .iter()
        .map(|g| {
            let mut b = Bits::new(tracked, false);
            g.iter().for_each(|&v| b.set(v));
            b
        })
        .collect();
    // A must-analysis: start from "everything" and narrow until nothing changes.
    let mut entry: Vec<Bits> = (0..n).map(|i| Bits::new(tracked, i != 0)).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for i in 1..n {
            if !reachable[i] || preds[i].is_empty() {
                continue;
            }
            let mut now = Bits::new(tracked, true);
            for &p in &preds[i] {
                let mut out = entry[p].clone();
                out.or(&gen[p]);
                now.and(&out);
            }
            if now != entry[i] {
                entry[i] = now;
                changed = true;
            }
        }
    }
    Defined(entry)
}
