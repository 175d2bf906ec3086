//! The JSON Schema of the flow format, for editors (`trustguide schema`).
//!
//! It is generated from the same serde types the loader reads flows with (`flow::raw`), so
//! it cannot drift from what `check` accepts: a field added to a step is in the schema the
//! moment it can be loaded. The schema describes shapes only; the checks that need the whole
//! flow (jump targets, variables, loops) are `check`'s.

use super::raw::RawFlow;

/// The schema as a JSON value, with a title and a description for editors.
pub fn flow_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawFlow).to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert("title".into(), "trustguide flow".into());
        map.insert(
            "description".into(),
            "A guided exercise for trustguide: steps that show text, ask questions and branch on the answers. See docs/flow-format.md.".into(),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_every_step_field_and_ask_kind() {
        let schema = flow_schema();
        let text = schema.to_string();
        for field in ["prompt", "who", "options", "min_length", "record", "safety"] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}");
        }
        for kind in ["text", "choice", "multi", "confirm", "scale", "list"] {
            assert!(text.contains(&format!("\"{kind}\"")), "{kind}");
        }
        assert_eq!(
            schema["additionalProperties"], false,
            "unknown fields are errors"
        );
        let required = schema["required"].as_array().expect("required");
        assert!(required.iter().any(|r| r == "steps"));
    }
}
