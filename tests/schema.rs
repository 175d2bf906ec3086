//! `trustguide schema` against a real JSON Schema validator: it accepts every flow `check`
//! accepts (the shipped ones, the examples, the docs' and the explain pages'), rejects the
//! mistakes a schema can see, and describes every property for an editor's hover.

use std::path::Path;

use crate::util::Test;

fn schema() -> serde_json::Value {
    let out = Test::new().args(["schema"]).run().code(0);
    serde_json::from_str(&out.stdout).expect("the schema is JSON")
}

fn validator(schema: &serde_json::Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("the schema is a valid JSON Schema")
}

/// A flow's YAML as the JSON an editor's YAML 1.2 extension hands the schema (`yes` is
/// text, as it is to `check`).
fn as_json(yaml: &str) -> serde_json::Value {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(yaml, options).expect("the YAML reads")
}

fn errors(v: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    v.iter_errors(&as_json(yaml))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every flow this repository ships or shows, each checked clean by `check` first.
fn valid_flows() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut flows = Vec::new();
    for folder in ["flows", "examples/flows"] {
        for entry in std::fs::read_dir(root.join(folder)).expect("folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("reads");
                flows.push((path.display().to_string(), text));
            }
        }
    }
    // Whole flows shown in the docs and on the explain pages' fixes.
    let mut pages = vec![root.join("docs/flow-format.md")];
    for entry in std::fs::read_dir(root.join("docs/diagnostics")).expect("pages") {
        pages.push(entry.expect("entry").path());
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("reads");
        let blocks: Vec<&str> = text
            .split("```yaml\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        for (i, block) in blocks.iter().enumerate() {
            let is_page = page.starts_with(root.join("docs/diagnostics"));
            // On an explain page the first block is the mistake; the fix comes after it.
            if block.contains("\nsteps:") && block.starts_with("flow:") && !(is_page && i == 0) {
                flows.push((
                    format!("{} block {}", page.display(), i + 1),
                    block.to_string(),
                ));
            }
        }
    }
    // The starter `trustguide new` writes.
    let starter = Test::new().args(["new", "weekly-reflection"]).run().code(0);
    let text = std::fs::read_to_string(starter.path("weekly-reflection.yaml")).expect("starter");
    flows.push(("trustguide new".into(), text));
    // Shapes the issue found refused: any value in `record` and `set`.
    flows.push((
        "record and set of any type".into(),
        "flow: anything\ntitle: A\nsteps:\n  - id: go\n    ask: confirm\n    prompt: Go?\n    set: { tired: false, count: 1 }\n  - end: completed\n    record: { x: 1, went: go }\n"
            .into(),
    ));
    flows
}

#[test]
fn every_flow_check_accepts_validates() {
    let schema = schema();
    let v = validator(&schema);
    let flows = valid_flows();
    assert!(flows.len() >= 20, "{} flows", flows.len());
    for (name, text) in &flows {
        let file = text
            .lines()
            .find_map(|l| l.strip_prefix("flow: "))
            .map(|id| format!("{}.yaml", id.split_whitespace().next().unwrap_or("x")))
            .expect("a flow id");
        Test::new()
            .file(&file, text.as_str())
            .args(["check", &file])
            .run()
            .code(0);
        let found = errors(&v, text);
        assert!(
            found.is_empty(),
            "{name} does not validate:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_mistakes_a_schema_can_see_are_rejected() {
    let v = validator(&schema());
    let base = "flow: x\ntitle: X\nsteps:\n";
    for step in [
        "  - id: a\n    promt: Hi?\n    ask: text\n",
        "  - id: a\n    ask: confrim\n    prompt: Go?\n",
        "  - id: a\n    ask: text\n",
        "  - id: a\n    ask: scale\n    prompt: How much?\n    min: one\n    max: 10\n",
        "  - say: hi\n    private: yes\n",
        "  - say: hi\n    timer: ten\n",
        "  - say: hi\n    end: complete\n",
        "  - id: a\n    ask: choice\n    prompt: Which?\n    options: [{ lable: A }, B]\n",
        "  - say: hi\n    next: { goto: a }\n",
        "  - say: hi\n    safety: { when: 'true' }\n",
    ] {
        let flow = format!("{base}{step}");
        assert!(!errors(&v, &flow).is_empty(), "accepted:\n{flow}");
    }
    for flow in [
        "title: X\nsteps:\n  - say: hi\n",
        "flow: x\ntitle: X\nminutes: ten\nsteps:\n  - say: hi\n",
        "flow: x\ntitle: X\nsteps:\n  id: a\n  say: hi\n",
        "flow: x\ntitle: X\nsteps:\n  - say: hi\ntests:\n  - name: t\n    expect: { outcome: complete }\n",
    ] {
        assert!(!errors(&v, flow).is_empty(), "accepted:\n{flow}");
    }
}

#[test]
fn every_property_has_a_plain_description() {
    let schema = schema();
    let mut missing = Vec::new();
    fn walk(node: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let described = prop
                            .get("description")
                            .and_then(|d| d.as_str())
                            .is_some_and(|d| d.len() > 10);
                        if !described {
                            missing.push(format!("{path}.{name}"));
                        }
                    }
                }
                for (k, v) in map {
                    walk(v, &format!("{path}/{k}"), missing);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    walk(&schema, "", &mut missing);
    assert!(missing.is_empty(), "no description: {missing:#?}");
    // Descriptions are for authors: no notes meant for the code's developers.
    let text = schema.to_string();
    for developer_word in ["serde", "raw", "load.rs", "Sp<"] {
        assert!(
            !text.contains(developer_word),
            "the schema mentions `{developer_word}`"
        );
    }
}
