//! A shortcut for the simplest expressions: `rounds + 1`, `not heard and rounds < 5`,
//! `pick == "again"`, `intensity.speaker >= 8`.
//!
//! Flows are full of these, and in a long scripted run starting minijinja's machine for each
//! one costs more than everything else the engine does. An expression is parsed once into a
//! [`Quick`] if it uses only names, whole numbers, strings, `true`/`false`/`none`, `+ -`,
//! comparisons, `and`/`or`/`not` and brackets. Evaluation gives up (returns `None`) the moment
//! it meets anything it does not handle exactly as minijinja does (an undefined name, a float,
//! mixed types, overflow); the engine then asks minijinja, which stays the one authority on
//! meaning and on error messages. A differential test holds the two to the same answers.

use minijinja::value::ValueKind;
use minijinja::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Quick {
    Lookup(Vec<String>),
    Literal(Value),
    Not(Box<Quick>),
    And(Box<Quick>, Box<Quick>),
    Or(Box<Quick>, Box<Quick>),
    Binary(Op, Box<Quick>, Box<Quick>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Int(i64),
    Str(String),
    Op(&'static str),
    Open,
    Close,
    Dot,
}

fn tokens(src: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1
            }
            ')' => {
                out.push(Token::Close);
                i += 1
            }
            '.' => {
                out.push(Token::Dot);
                i += 1
            }
            '+' => {
                out.push(Token::Op("+"));
                i += 1
            }
            '-' => {
                out.push(Token::Op("-"));
                i += 1
            }
            '=' | '!' | '<' | '>' => {
                let two = chars.get(i + 1) == Some(&'=');
                let op = match (c, two) {
                    ('=', true) => "==",
                    ('!', true) => "!=",
                    ('<', true) => "<=",
                    ('>', true) => ">=",
                    ('<', false) => "<",
                    ('>', false) => ">",
                    _ => return None,
                };
                out.push(Token::Op(op));
                i += if two { 2 } else { 1 };
            }
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == c)? + i + 1;
                let text: String = chars[i + 1..end].iter().collect();
                if text.contains('\\') {
                    return None;
                }
                out.push(Token::Str(text));
                i = end + 1;
            }
            '0'..='9' => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if i < chars.len()
                    && (chars[i] == '.' || chars[i] == '_' || chars[i].is_alphabetic())
                {
                    return None;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token::Int(text.parse().ok()?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Name(chars[start..i].iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if n == w)
    }

    fn or(&mut self) -> Option<Quick> {
        let mut left = self.and()?;
        while self.word("or") {
            self.at += 1;
            left = Quick::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Quick> {
        let mut left = self.not()?;
        while self.word("and") {
            self.at += 1;
            left = Quick::And(Box::new(left), Box::new(self.not()?));
        }
        Some(left)
    }

    fn not(&mut self) -> Option<Quick> {
        if self.word("not") {
            self.at += 1;
            return Some(Quick::Not(Box::new(self.not()?)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Option<Quick> {
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Token::Op("==")) => Op::Eq,
            Some(Token::Op("!=")) => Op::Ne,
            Some(Token::Op("<")) => Op::Lt,
            Some(Token::Op("<=")) => Op::Le,
            Some(Token::Op(">")) => Op::Gt,
            Some(Token::Op(">=")) => Op::Ge,
            _ => return Some(left),
        };
        self.at += 1;
        let right = self.sum()?;
        // Chained comparisons (`a < b < c`) are left to minijinja.
        if matches!(self.peek(), Some(Token::Op(o)) if *o != "+" && *o != "-") {
            return None;
        }
        Some(Quick::Binary(op, Box::new(left), Box::new(right)))
    }

    fn sum(&mut self) -> Option<Quick> {
        let mut left = self.atom()?;
        loop {
            let op = match self.peek() {
                Some(Token::Op("+")) => Op::Add,
                Some(Token::Op("-")) => Op::Sub,
                _ => return Some(left),
            };
            self.at += 1;
            left = Quick::Binary(op, Box::new(left), Box::new(self.atom()?));
        }
    }

    fn atom(&mut self) -> Option<Quick> {
        let token = self.peek()?.clone();
        self.at += 1;
        match token {
            Token::Int(n) => Some(Quick::Literal(Value::from(n))),
            Token::Str(s) => Some(Quick::Literal(Value::from(s))),
            Token::Open => {
                let inner = self.or()?;
                (self.peek() == Some(&Token::Close)).then_some(())?;
                self.at += 1;
                Some(inner)
            }
            Token::Name(n) => match n.as_str() {
                "true" | "True" => Some(Quick::Literal(Value::from(true))),
                "false" | "False" => Some(Quick::Literal(Value::from(false))),
                "none" | "None" => Some(Quick::Literal(Value::from(()))),
                "and" | "or" | "not" | "in" | "is" | "if" | "else" => None,
                _ => {
                    let mut path = vec![n];
                    while self.peek() == Some(&Token::Dot) {
                        self.at += 1;
                        match self.peek()? {
                            Token::Name(f) => path.push(f.clone()),
                            _ => return None,
                        }
                        self.at += 1;
                    }
                    Some(Quick::Lookup(path))
                }
            },
            _ => None,
        }
    }
}

impl Quick {
    /// The names it looks up (the first part of each dotted path): what minijinja's
    /// `undeclared_variables(false)` gives for the same expression, which a test holds it to.
    pub fn names(&self) -> std::collections::HashSet<String> {
        let mut names = std::collections::HashSet::new();
        let mut todo = vec![self];
        while let Some(q) = todo.pop() {
            match q {
                Quick::Lookup(path) => {
                    if let Some(first) = path.first() {
                        names.insert(first.clone());
                    }
                }
                Quick::Literal(_) => {}
                Quick::Not(a) => todo.push(a),
                Quick::And(a, b) | Quick::Or(a, b) | Quick::Binary(_, a, b) => {
                    todo.push(a);
                    todo.push(b);
                }
            }
        }
        names
    }
}

/// Parses `src` if it is within the quick subset.
pub fn parse(src: &str) -> Option<Quick> {
    let mut p = Parser {
        tokens: tokens(src)?,
        at: 0,
    };
    let q = p.or()?;
    (p.at == p.tokens.len()).then_some(q)
}

/// Evaluates, or `None` to say "ask minijinja".
pub fn eval(q: &Quick, lookup: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    match q {
        Quick::Literal(v) => Some(v.clone()),
        Quick::Lookup(path) => {
            let mut v = lookup(&path[0])?;
            for field in &path[1..] {
                v = v.get_attr(field).ok()?;
            }
            (!v.is_undefined()).then_some(v)
        }
        Quick::Not(inner) => Some(Value::from(!eval(inner, lookup)?.is_true())),
        Quick::And(a, b) => {
            let left = eval(a, lookup)?;
            if left.is_true() {
                eval(b, lookup)
            } else {
                Some(left)
            }
        }
        Quick::Or(a, b) => {
            let left = eval(a, lookup)?;
            if left.is_true() {
                Some(left)
            } else {
                eval(b, lookup)
            }
        }
        Quick::Binary(op, a, b) => {
            let (a, b) = (eval(a, lookup)?, eval(b, lookup)?);
            binary(*op, &a, &b)
        }
    }
}

fn int(v: &Value) -> Option<i64> {
    if v.is_integer() {
        v.as_i64()
    } else {
        None
    }
}

fn binary(op: Op, a: &Value, b: &Value) -> Option<Value> {
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        return Some(match op {
            Op::Add => Value::from(x.checked_add(y)?),
            Op::Sub => Value::from(x.checked_sub(y)?),
            Op::Eq => Value::from(x == y),
            Op::Ne => Value::from(x != y),
            Op::Lt => Value::from(x < y),
            Op::Le => Value::from(x <= y),
            Op::Gt => Value::from(x > y),
            Op::Ge => Value::from(x >= y),
        });
    }
    let same = |k: ValueKind| a.kind() == k && b.kind() == k;
    match op {
        Op::Eq | Op::Ne
            if same(ValueKind::String) || same(ValueKind::Bool) || same(ValueKind::None) =>
        {
            let equal = a == b;
            Some(Value::from(if op == Op::Eq { equal } else { !equal }))
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge if same(ValueKind::String) => {
            let (x, y) = (a.as_str()?, b.as_str()?);
            Some(Value::from(match op {
                Op::Lt => x < y,
                Op::Le => x <= y,
                Op::Gt => x > y,
                _ => x >= y,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{context, Environment};

    /// Every expression the shortcut answers must get minijinja's answer.
    #[test]
    fn agrees_with_minijinja_wherever_it_answers() {
        let env = Environment::new();
        let contexts = [
            context! { rounds => 0, heard => false, pick => "again", name => "Sam", x => 2.5,
            both => context! { speaker => 8, listener => 3 }, nothing => (), big => i64::MAX },
            context! { rounds => 5, heard => true, pick => "stop", name => "", x => 0,
            both => context! { speaker => 1, listener => 9 }, nothing => (), big => -1 },
        ];
        let exprs = [
            "rounds + 1",
            "rounds - 2 + 10",
            "not heard and rounds < 5",
            "heard or rounds",
            "rounds and name",
            "pick == \"again\"",
            "pick != 'stop'",
            "both.speaker >= 8 or both.listener >= 8",
            "(rounds + 1) * 2",
            "rounds < 5 and not (heard)",
            "name",
            "not name",
            "x + 1",
            "x == 2.5",
            "rounds == heard",
            "nothing == none",
            "big + 1",
            "pick < 'b'",
            "name >= pick",
            "true and false",
            "1 < 2 < 3",
            "rounds in [1]",
            "missing + 1",
            "both.nobody > 1",
            "heard == true",
            "rounds == 0",
            "rounds >= 5 or pick == 'stop'",
            "-1",
            "rounds - -1",
        ];
        let mut answered = 0;
        for ctx in &contexts {
            let lookup = |k: &str| ctx.get_attr(k).ok().filter(|v| !v.is_undefined());
            for src in exprs {
                let slow = env
                    .compile_expression(src)
                    .and_then(|e| e.eval(ctx.clone()));
                if let Some(fast) = parse(src).and_then(|q| eval(&q, &lookup)) {
                    answered += 1;
                    let slow = slow.unwrap_or_else(|e| {
                        panic!("{src}: minijinja failed ({e}) but the shortcut answered {fast}")
                    });
                    assert_eq!(fast, slow, "{src}");
                    assert_eq!(fast.kind(), slow.kind(), "{src}");
                }
            }
        }
        assert!(
            answered >= 30,
            "the shortcut should answer the common cases ({answered})"
        );
    }

    /// `check` takes an expression's names from the shortcut when it parses one: the
    /// expression must then be valid for minijinja, with the same names.
    #[test]
    fn names_and_validity_agree_with_minijinja() {
        let env = Environment::new();
        let mut parsed = 0;
        for src in [
            "rounds + 1",
            "not heard and rounds < 5",
            "both.speaker >= 8 or both.listener >= 8",
            "pick == \"again\" and (a.b.c != 'x' or not d)",
            "score + k3",
            "k3 > 8 and score > 100",
            "true and none == nothing",
            "True or False or None",
            "01 + a",
            "007",
            "a.b.c",
            "a..b",
            "a.",
            "a + ",
            "(a",
            "a b",
            "a == b == c",
            "loop.index",
            "_x + x_1",
            "'it''s'",
            "\"\"",
            "a.1",
            "9223372036854775807 + a",
            "99999999999999999999 + a",
        ] {
            let Some(q) = parse(src) else { continue };
            parsed += 1;
            let expr = env.compile_expression(src).unwrap_or_else(|e| {
                panic!("{src}: the shortcut parsed what minijinja refuses: {e}")
            });
            assert_eq!(q.names(), expr.undeclared_variables(false), "{src}");
        }
        assert!(parsed >= 12, "only {parsed} parsed");
    }

    #[test]
    fn leaves_the_rest_to_minijinja() {
        for src in [
            "a|length",
            "a * 2",
            "a in b",
            "a is defined",
            "f(x)",
            "a[0]",
            "a if b else c",
            "1.5 + a",
        ] {
            assert_eq!(parse(src), None, "{src}");
        }
    }
}
